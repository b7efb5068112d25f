#include "agent/check/access.h"

#include <gtest/gtest.h>

using namespace outflow::agent::check;
namespace pipeline = outflow::pipeline;

namespace {

pipeline::TopicSpec named(const std::string& name) {
  pipeline::TopicSpec t;
  t.name = name;
  return t;
}

pipeline::PipelineSpec spec_with_dead_letters(int max_attempts) {
  pipeline::PipelineSpec spec;
  spec.topics = {named("shop.orders"), named("shop.payments")};
  spec.dead_letter = pipeline::DeadLetterSpec{};
  spec.dead_letter->topic = "shop.dlq";
  spec.dead_letter->max_attempts = max_attempts;
  return spec;
}

const std::string kPrincipal = "User:alice";
const std::string kBroker = "kafka-1:9092";

std::map<Operation, Probed> allowed(std::initializer_list<Operation> operations) {
  std::map<Operation, Probed> out;
  for (const auto op : operations) out[op] = {Access::Allowed, {}};
  return out;
}

}  // namespace

TEST(AccessNeeds, PublishedTopicsNeedWriteAndTheirConfigsTheDeadLetterFamilyWhatTheReplayerDoes) {
  using enum Operation;
  const auto needs = access_needs(spec_with_dead_letters(2));
  ASSERT_EQ(needs.size(), 6u);
  EXPECT_EQ(needs[0], (TopicNeeds{"shop.orders", {Write, DescribeConfigs}, "the agent publishes to it"}));
  EXPECT_EQ(needs[1].topic, "shop.payments");
  EXPECT_EQ(needs[2], (TopicNeeds{"shop.dlq", {Read}, "the agent replays dead letters from it"}));
  EXPECT_EQ(needs[3], (TopicNeeds{"shop.dlq.retry.1", {Read, Write, DescribeConfigs},
                                  "the agent retries dead letters through it"}));
  EXPECT_EQ(needs[4].topic, "shop.dlq.retry.2");
  EXPECT_EQ(needs[5], (TopicNeeds{"shop.dlq.parked", {Write, DescribeConfigs, Read},
                                  "the agent parks dead letters in it, outflow-agent parked reads them"}));
}

TEST(AccessNeeds, WithoutDeadLettersOnlyThePublishedTopics) {
  pipeline::PipelineSpec spec;
  spec.topics = {named("shop.orders")};
  EXPECT_EQ(access_needs(spec).size(), 1u);
}

TEST(Access, EverythingAllowedIsOneOkLineCountingTheProbedTopics) {
  using enum Operation;
  const std::vector<TopicNeeds> needs{{"a", {Write, DescribeConfigs}, "u"}, {"b", {Read}, "u"}, {"missing", {Read}, "u"}};
  const AccessFound found{{"a", allowed({Write, DescribeConfigs})}, {"b", allowed({Read})}};
  EXPECT_EQ(access(needs, found, kPrincipal, kBroker),
            (std::vector<Item>{{"access", Outcome::Ok, "User:alice has every permission the agent needs on the 2 topics"}}));
}

TEST(Access, NothingProbedIsNoLine) {
  EXPECT_TRUE(access({{"missing", {Operation::Read}, "u"}}, {}, kPrincipal, kBroker).empty());
}

TEST(Access, DeniedOperationsOfATopicAreOneLineWithTheGrantingCommand) {
  using enum Operation;
  const std::vector<TopicNeeds> needs{{"t", {Read, Write, DescribeConfigs}, "the agent retries dead letters through it"},
                                      {"ok", {Write}, "u"}};
  AccessFound found{{"t", allowed({Write})}, {"ok", allowed({Write})}};
  found["t"][Read] = {Access::Denied, {}};
  found["t"][DescribeConfigs] = {Access::Denied, {}};
  EXPECT_EQ(access(needs, found, kPrincipal, kBroker),
            (std::vector<Item>{{"access to topic t", Outcome::Failed,
                                "User:alice may not READ or DESCRIBE_CONFIGS it (the agent retries dead letters "
                                "through it); grant them: kafka-acls --bootstrap-server kafka-1:9092 --add "
                                "--allow-principal User:alice --operation Read --operation DescribeConfigs --topic t"}}));
}

TEST(Access, OneDeniedOperationSaysGrantIt) {
  AccessFound found{{"t", {}}};
  found["t"][Operation::Write] = {Access::Denied, {}};
  const auto items = access({{"t", {Operation::Write}, "the agent publishes to it"}}, found, kPrincipal, kBroker);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].detail,
            "User:alice may not WRITE it (the agent publishes to it); grant it: kafka-acls --bootstrap-server "
            "kafka-1:9092 --add --allow-principal User:alice --operation Write --topic t");
}

TEST(Access, AnUndecidedProbeFailsWithItsReasonNeverPassesSilently) {
  AccessFound found{{"t", {}}};
  found["t"][Operation::Read] = {Access::Unknown, "no answer in time"};
  EXPECT_EQ(access({{"t", {Operation::Read, Operation::Write}, "u"}}, found, kPrincipal, kBroker),
            (std::vector<Item>{
                {"access to topic t", Outcome::Failed, "could not tell whether User:alice may READ it: no answer in time"},
                {"access to topic t", Outcome::Failed, "could not tell whether User:alice may WRITE it: not probed"}}));
}

TEST(Topics, ATopicThePrincipalMayNotDescribeIsNamedSoAndNotCalledMissing) {
  const std::vector<pipeline::TopicSpec> declared{named("hidden"), named("gone"), named("here")};
  const auto items = topics(declared, {{"here", 1}}, {"hidden"}, kPrincipal);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0], (Item{"topic hidden", Outcome::Failed,
                            "User:alice may not DESCRIBE it, so Kafka does not say whether it exists"}));
  EXPECT_EQ(items[1].outcome, Outcome::Failed);
  EXPECT_NE(items[1].detail.find("does not exist"), std::string::npos);
  EXPECT_EQ(items[2].outcome, Outcome::Ok);
}
