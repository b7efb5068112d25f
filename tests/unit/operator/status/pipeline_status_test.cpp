#include "operator/status/pipeline_status.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

using namespace outflow::op::status;
using outflow::op::topics::TopicOrigin;
using outflow::op::topics::TopicState;
using outflow::op::topics::TopicStatus;
using nlohmann::json;

namespace {

constexpr const char* kEarlier = "2027-01-15T08:00:00Z";
constexpr const char* kNow = "2027-01-15T09:30:00Z";

TopicStatus topic(std::string name, TopicState state = TopicState::Ready, bool managed = true) {
  return {std::move(name), 6, 3, state, "", "", managed, TopicOrigin::Unknown};
}

// A healthy pipeline at generation 4 with two topics.
Findings healthy() {
  Findings f;
  f.generation = 4;
  f.topics_ready = make_condition("TopicsReady", true, "AllTopicsReady", "2/2 topics ready", 4);
  f.agents_ready = make_condition("AgentsReady", true, "AgentsReady", "2/2 agents ready", 4);
  f.breakers_closed = make_condition("BreakersClosed", true, "AllClosed", "2 Closed", 4);
  f.alerts_ready = make_condition("AlertsReady", true, "RulesInstalled", "6 rules", 4);
  f.topics = {topic("shop.orders"), topic("shop.orders.dlq")};
  f.summary = {"2/2", "2/2", "2 Closed"};
  return f;
}

const json* condition(const json& status, const std::string& type) {
  for (const auto& c : status.at("conditions")) {
    if (c.at("type") == type) return &c;
  }
  ADD_FAILURE() << "no condition " << type << " in " << status.dump();
  return nullptr;
}

std::string transition_time(const json& status, const std::string& type) {
  const json* c = condition(status, type);
  return c == nullptr ? "" : c->at("lastTransitionTime").get<std::string>();
}

std::string status_of(const json& status, const std::string& type) {
  const json* c = condition(status, type);
  return c == nullptr ? "" : c->at("status").get<std::string>();
}

std::vector<std::string> condition_types(const json& status) {
  std::vector<std::string> types;
  for (const auto& c : status.at("conditions")) types.push_back(c.at("type").get<std::string>());
  return types;
}

}  // namespace

TEST(OperatorStatus, WritesGenerationConditionsTopicsAndSummary) {
  const auto status = operator_status(healthy(), nullptr, kNow);
  EXPECT_EQ(status["observedGeneration"], 4);
  EXPECT_EQ(condition_types(status),
            (std::vector<std::string>{"Ready", "TopicsReady", "AgentsReady", "BreakersClosed", "AlertsReady"}));
  EXPECT_EQ(status["topics"], to_json(healthy().topics));
  EXPECT_EQ(status["summary"], json({{"topics", "2/2"}, {"agents", "2/2"}, {"breakers", "2 Closed"}}));
  EXPECT_FALSE(status.contains("agents"));
}

TEST(OperatorStatus, ReadyIsTrueWhenTopicsAgentsAndBreakersAre) {
  const auto status = operator_status(healthy(), nullptr, kNow);
  EXPECT_EQ(status_of(status, "Ready"), "True");
  const json* ready = condition(status, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ((*ready)["observedGeneration"], 4);
}

TEST(OperatorStatus, ReadyCarriesTheFailingPartsReason) {
  auto f = healthy();
  f.agents_ready = make_condition("AgentsReady", false, "DeploymentMissing", "no agent Deployment", 4);
  const auto status = operator_status(f, nullptr, kNow);
  const json* ready = condition(status, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ((*ready)["status"], "False");
  EXPECT_EQ((*ready)["reason"], "DeploymentMissing");
  EXPECT_EQ((*ready)["message"], "no agent Deployment");
}

TEST(OperatorStatus, MissingAlertRulesDoNotMakeThePipelineUnready) {
  auto f = healthy();
  f.alerts_ready = make_condition("AlertsReady", false, "PrometheusOperatorMissing", "no CRD", 4);
  const auto status = operator_status(f, nullptr, kNow);
  EXPECT_EQ(status_of(status, "Ready"), "True");
  EXPECT_EQ(status_of(status, "AlertsReady"), "False");
}

TEST(OperatorStatus, AFirstStatusStampsEveryConditionWithNow) {
  const auto status = operator_status(healthy(), nullptr, kNow);
  for (const auto& type : condition_types(status)) EXPECT_EQ(transition_time(status, type), kNow) << type;
}

TEST(OperatorStatus, KeepsTransitionTimesWhileNothingFlips) {
  const auto before = operator_status(healthy(), nullptr, kEarlier);
  auto f = healthy();
  f.topics_ready.message = "2/2 topics ready (rechecked)";
  const auto after = operator_status(f, before, kNow);
  for (const auto& type : condition_types(after)) EXPECT_EQ(transition_time(after, type), kEarlier) << type;
  EXPECT_EQ((*condition(after, "TopicsReady"))["message"], "2/2 topics ready (rechecked)");
}

TEST(OperatorStatus, AFlippedConditionAndReadyGetTheNewTransitionTime) {
  const auto before = operator_status(healthy(), nullptr, kEarlier);
  auto f = healthy();
  f.topics_ready = make_condition("TopicsReady", false, "TopicsPending", "1/2 topics ready", 4);
  const auto after = operator_status(f, before, kNow);
  EXPECT_EQ(transition_time(after, "TopicsReady"), kNow);
  EXPECT_EQ(transition_time(after, "Ready"), kNow);
  EXPECT_EQ(transition_time(after, "AgentsReady"), kEarlier);
  EXPECT_EQ(transition_time(after, "BreakersClosed"), kEarlier);
  EXPECT_EQ(transition_time(after, "AlertsReady"), kEarlier);
}

TEST(OperatorStatus, LeavesOutConditionsOfOtherTypes) {
  auto current = operator_status(healthy(), nullptr, kEarlier);
  current["conditions"].push_back({{"type", "Foreign"}, {"status", "True"}, {"reason", "X"},
                                   {"message", ""}, {"lastTransitionTime", kEarlier}});
  const auto status = operator_status(healthy(), current, kNow);
  EXPECT_EQ(condition_types(status),
            (std::vector<std::string>{"Ready", "TopicsReady", "AgentsReady", "BreakersClosed", "AlertsReady"}));
}

TEST(StatusNeedsWrite, AnUnchangedPipelineNeedsNoWrite) {
  const auto current = operator_status(healthy(), nullptr, kEarlier);
  EXPECT_FALSE(needs_write(operator_status(healthy(), current, kNow), current));
}

TEST(StatusNeedsWrite, FieldsOwnedByOthersDoNotCauseAWrite) {
  auto current = operator_status(healthy(), nullptr, kEarlier);
  current["agents"] = json::array({{{"pod", "orders-agent-1"}, {"breaker", "Closed"}}});
  EXPECT_FALSE(needs_write(operator_status(healthy(), current, kNow), current));
}

TEST(StatusNeedsWrite, ConditionsOfOtherTypesDoNotCauseAWrite) {
  auto current = operator_status(healthy(), nullptr, kEarlier);
  current["conditions"].push_back({{"type", "Foreign"}, {"status", "False"}, {"reason", "X"},
                                   {"message", "set by someone else"}, {"observedGeneration", 1},
                                   {"lastTransitionTime", kEarlier}});
  EXPECT_FALSE(needs_write(operator_status(healthy(), current, kNow), current));
}

TEST(StatusNeedsWrite, TheOrderOfStoredConditionsDoesNotMatter) {
  auto current = operator_status(healthy(), nullptr, kEarlier);
  std::reverse(current["conditions"].begin(), current["conditions"].end());
  EXPECT_FALSE(needs_write(operator_status(healthy(), current, kNow), current));
}

TEST(StatusNeedsWrite, OneChangedTopicNeedsAWrite) {
  const auto current = operator_status(healthy(), nullptr, kEarlier);
  auto f = healthy();
  f.topics[1].partitions = 12;
  EXPECT_TRUE(needs_write(operator_status(f, current, kNow), current));
}

TEST(StatusNeedsWrite, AChangedConditionMessageNeedsAWrite) {
  const auto current = operator_status(healthy(), nullptr, kEarlier);
  auto f = healthy();
  f.breakers_closed.message = "1 Closed, 1 HalfOpen";
  EXPECT_TRUE(needs_write(operator_status(f, current, kNow), current));
}

TEST(StatusNeedsWrite, ANewGenerationNeedsAWrite) {
  const auto current = operator_status(healthy(), nullptr, kEarlier);
  auto f = healthy();
  f.generation = 5;
  EXPECT_TRUE(needs_write(operator_status(f, current, kNow), current));
}

TEST(StatusNeedsWrite, AMissingOrUnreadableStatusNeedsAWrite) {
  const auto desired = operator_status(healthy(), nullptr, kNow);
  EXPECT_TRUE(needs_write(desired, nullptr));
  EXPECT_TRUE(needs_write(desired, json::array()));
  EXPECT_TRUE(needs_write(desired, "Ready"));
  EXPECT_TRUE(needs_write(desired, json::object()));
  auto without_summary = desired;
  without_summary.erase("summary");
  EXPECT_TRUE(needs_write(desired, without_summary));
  auto without_one_condition = desired;
  without_one_condition["conditions"].erase(without_one_condition["conditions"].size() - 1);
  EXPECT_TRUE(needs_write(desired, without_one_condition));
}

TEST(ManagedTopics, AreTheTopicsMarkedManagedInStatus) {
  const json status = {{"topics", json::array({{{"name", "a"}, {"managed", true}},
                                               {{"name", "b"}, {"managed", false}},
                                               {{"name", "c"}},
                                               {{"name", "d"}, {"managed", true}}})}};
  EXPECT_EQ(managed_topics(status), (std::set<std::string>{"a", "d"}));
}

TEST(ManagedTopics, RoundTripThroughTheStatusTheOperatorWrites) {
  auto f = healthy();
  f.topics.push_back(topic("adopted.elsewhere", TopicState::Error, /*managed=*/false));
  EXPECT_EQ(managed_topics(operator_status(f, nullptr, kNow)),
            (std::set<std::string>{"shop.orders", "shop.orders.dlq"}));
}

TEST(CreatedTopics, AreOnlyTheManagedTopicsWithOriginCreated) {
  const json status = {{"topics", json::array({{{"name", "made"}, {"managed", true}, {"origin", "Created"}},
                                               {{"name", "found"}, {"managed", true}, {"origin", "Adopted"}},
                                               {{"name", "legacy"}, {"managed", true}},
                                               {{"name", "lost"}, {"managed", false}, {"origin", "Created"}}})}};
  EXPECT_EQ(created_topics(status), (std::set<std::string>{"made"}));
  EXPECT_EQ(topic_origins(status).size(), 2u);
  EXPECT_TRUE(created_topics(nullptr).empty());
}

TEST(CreatedTopics, RoundTripThroughTheStatusTheOperatorWrites) {
  auto f = healthy();
  f.topics = {topic("made"), topic("found")};
  f.topics[0].origin = TopicOrigin::Created;
  f.topics[1].origin = TopicOrigin::Adopted;
  const auto status = operator_status(f, nullptr, kNow);
  EXPECT_EQ(created_topics(status), (std::set<std::string>{"made"}));
  EXPECT_EQ(status["topics"][1]["origin"], "Adopted");
}

TEST(KafkaClusterId, IsWrittenWhenKnownAndRemovedWhenNoLongerKnown) {
  auto f = healthy();
  f.kafka_cluster_id = "Qe3pZ9";
  const auto with_id = operator_status(f, nullptr, kNow);
  EXPECT_EQ(kafka_cluster_id(with_id), "Qe3pZ9");
  EXPECT_FALSE(needs_write(with_id, with_id));

  f.kafka_cluster_id.clear();
  const auto without_id = operator_status(f, with_id, kNow);
  EXPECT_FALSE(without_id.contains("kafkaClusterId"));
  EXPECT_TRUE(needs_write(without_id, with_id)) << "a stale id must not stay in the status";
  EXPECT_EQ(kafka_cluster_id(json::object()), "");
}

TEST(ManagedTopics, NoneWhenTheStatusHasNoTopics) {
  EXPECT_TRUE(managed_topics(nullptr).empty());
  EXPECT_TRUE(managed_topics(json::object()).empty());
  EXPECT_TRUE(managed_topics(json::array()).empty());
  EXPECT_TRUE(managed_topics({{"topics", json::array({"not-an-object"})}}).empty());
}

TEST(TopicStatusJson, WritesEveryFieldOfAnEntry) {
  const auto out = to_json(std::vector<TopicStatus>{
      {"shop.orders", 6, 3, TopicState::Error, "PartitionDecreaseRefused", "shop.orders has 12 partitions", true,
       TopicOrigin::Created}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], json({{"name", "shop.orders"},
                          {"partitions", 6},
                          {"replicationFactor", 3},
                          {"state", "Error"},
                          {"managed", true},
                          {"origin", "Created"},
                          {"reason", "PartitionDecreaseRefused"},
                          {"message", "shop.orders has 12 partitions"}}));
}

TEST(TopicStatusJson, OmitsAnEmptyReasonAndMessage) {
  const auto out = to_json(std::vector<TopicStatus>{topic("shop.orders", TopicState::Pending, false)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["state"], "Pending");
  EXPECT_EQ(out[0]["managed"], false);
  EXPECT_FALSE(out[0].contains("reason"));
  EXPECT_FALSE(out[0].contains("message"));
}

TEST(TopicStatusJson, KeepsTheOrderOfTheTopics) {
  const auto out = to_json(std::vector<TopicStatus>{topic("b"), topic("a"), topic("c")});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["name"], "b");
  EXPECT_EQ(out[1]["name"], "a");
  EXPECT_EQ(out[2]["name"], "c");
  EXPECT_TRUE(to_json(std::vector<TopicStatus>{}).is_array());
}
