// The finalizer's facts as read from the caches, and the Kafka credentials it
// can use: the Secrets as they are, or as last read when a namespace being
// deleted has removed them first.

#include "operator/controller/decide.h"

#include <gtest/gtest.h>

using namespace outflow;
using namespace outflow::op::controller;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr std::int64_t kRequested = 1'780'000'000;  // 2026-05-28T20:26:40Z

json sasl_spec() {
  return {{"kafka",
           {{"bootstrapServers", {"kafka:9093"}},
            {"sasl", {{"mechanism", "SCRAM-SHA-512"}, {"secretRef", {{"name", "kafka-user"}}}}}}},
          {"topics",
           {{{"name", "orders"}, {"partitions", 1}, {"replicationFactor", 1}},
            {{"name", "audit"}, {"partitions", 1}, {"replicationFactor", 1}}}},
          {"outbox", {{"databaseSecretRef", {{"name", "orders-db"}}}, {"defaultTopic", "orders"}}},
          {"topicDeletionPolicy", "Delete"}};
}

// A pipeline being deleted that created "orders" and adopted "audit".
Observed deleting(json spec = sasl_spec()) {
  Observed o;
  o.pipeline = {{"metadata",
                 {{"namespace", "shop"},
                  {"name", "orders"},
                  {"uid", "uid-1"},
                  {"creationTimestamp", "2026-05-01T00:00:00Z"},
                  {"deletionTimestamp", "2026-05-28T20:26:40Z"},
                  {"finalizers", {"outflow.dev/topic-deletion"}}}},
                {"spec", std::move(spec)},
                {"status",
                 {{"topics",
                   {{{"name", "orders"}, {"managed", true}, {"origin", "Created"}},
                    {{"name", "audit"}, {"managed", true}, {"origin", "Adopted"}}}}}}};
  o.secrets = {{"kafka-user", {{"username", "orders"}, {"password", "now"}}}};
  o.secrets_last_seen = o.secrets;
  o.now_unix = kRequested + 5;
  return o;
}

json deployment(std::optional<int> replicas) {
  json d = {{"metadata", {{"name", "orders-agent"}}}, {"spec", json::object()}};
  if (replicas) d["spec"]["replicas"] = *replicas;
  return d;
}

ReconcilerConfig config() {
  ReconcilerConfig c;
  c.topic_deletion_timeout = 300s;
  return c;
}

}  // namespace

TEST(DecideTeardown, OnlyTheCreatedTopicGoesOnceNoAgentRuns) {
  const auto t = decide_teardown(deleting(), config());
  EXPECT_EQ(t.step.action, op::topics::TeardownAction::DeleteTopics);
  EXPECT_EQ(t.step.deletable, (std::vector<std::string>{"orders"}));
  ASSERT_TRUE(t.kafka.settings);
  ASSERT_TRUE(t.kafka.settings->sasl);
  EXPECT_EQ(t.kafka.settings->sasl->password, "now");
  EXPECT_TRUE(t.kafka.from_last_seen.empty());
  EXPECT_EQ(t.facts.self.name, "shop/orders");
  EXPECT_EQ(t.facts.give_up_after, 300s);
}

TEST(DecideTeardown, AnAgentDeploymentThatStillWantsPodsIsScaledDownFirst) {
  auto o = deleting();
  o.deployment = deployment(2);
  o.agent_pods = {"orders-agent-5d9-x"};
  const auto t = decide_teardown(o, config());
  EXPECT_EQ(t.facts.deployment, "orders-agent");
  EXPECT_TRUE(t.facts.deployment_wants_pods);
  EXPECT_EQ(t.step.action, op::topics::TeardownAction::StopAgents);
  EXPECT_TRUE(t.step.scale_agents_to_zero);
  EXPECT_EQ(t.step.look_again_in, 145s);
}

TEST(DecideTeardown, ADeploymentWithoutReplicasRunsOnePodAndOneBeingDeletedNone) {
  auto o = deleting();
  o.deployment = deployment(std::nullopt);
  EXPECT_TRUE(decide_teardown(o, config()).facts.deployment_wants_pods);
  o.deployment = deployment(0);
  EXPECT_FALSE(decide_teardown(o, config()).facts.deployment_wants_pods);
  o.deployment = deployment(3);
  (*o.deployment)["metadata"]["deletionTimestamp"] = "2026-05-28T20:26:40Z";
  EXPECT_FALSE(decide_teardown(o, config()).facts.deployment_wants_pods)
      << "the garbage collector is already removing it and its pods";
}

// Deleting a namespace deletes its Secrets without waiting for the pipeline's
// finalizer: the credentials read before are what is left to delete with.
TEST(DecideTeardown, ASecretDeletedMeanwhileIsUsedAsLastRead) {
  auto o = deleting();
  o.secrets.clear();
  const auto t = decide_teardown(o, config());
  EXPECT_EQ(t.step.action, op::topics::TeardownAction::DeleteTopics);
  ASSERT_TRUE(t.kafka.settings);
  EXPECT_EQ(t.kafka.settings->sasl->username, "orders");
  EXPECT_EQ(t.kafka.from_last_seen, (std::vector<std::string>{"kafka-user"}));
}

TEST(DecideTeardown, WithoutAnEarlierCopyTheFinalizerRetriesSayingWhy) {
  auto o = deleting();
  o.secrets.clear();
  o.secrets_last_seen.clear();
  const auto t = decide_teardown(o, config());
  EXPECT_EQ(t.step.action, op::topics::TeardownAction::Retry);
  EXPECT_FALSE(t.kafka.settings);
  const auto& message = t.step.notes.at(0).message;
  EXPECT_NE(message.find("kafka-user"), std::string::npos) << message;
  EXPECT_NE(message.find("since it started"), std::string::npos) << message;
}

TEST(DecideTeardown, AnUnreadableSpecReleasesWithoutReadingAnything) {
  auto broken = sasl_spec();
  broken.erase("outbox");
  const auto t = decide_teardown(deleting(broken), config());
  EXPECT_FALSE(t.spec);
  EXPECT_EQ(t.step.action, op::topics::TeardownAction::Release);
  EXPECT_EQ(t.step.notes.at(0).reason, "TopicsRetained");
}

TEST(KafkaAccess, TheSecretsAsTheyAreComeFirst) {
  const auto spec = pipeline::parse_spec(sasl_spec());
  const auto access = kafka_access(spec, {{"kafka-user", {{"username", "u"}, {"password", "new"}}}},
                                   {{"kafka-user", {{"username", "u"}, {"password", "old"}}}});
  ASSERT_TRUE(access.settings);
  EXPECT_EQ(access.settings->sasl->password, "new");
  EXPECT_TRUE(access.from_last_seen.empty());
}

// A Secret that still exists but lost a key was edited on purpose: its old
// contents are not brought back.
TEST(KafkaAccess, AKeyRemovedFromAnExistingSecretIsNotFilledFromMemory) {
  const auto spec = pipeline::parse_spec(sasl_spec());
  const auto access = kafka_access(spec, {{"kafka-user", {{"username", "u"}}}},
                                   {{"kafka-user", {{"username", "u"}, {"password", "old"}}}});
  EXPECT_FALSE(access.settings);
  EXPECT_NE(access.problem.find("password"), std::string::npos) << access.problem;
}
