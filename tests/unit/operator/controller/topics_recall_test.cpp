// What a starting operator takes from the stored status instead of asking
// Kafka about every pipeline's topics again.

#include "operator/controller/topics_recall.h"

#include <gtest/gtest.h>

#include <set>
#include <variant>

using namespace outflow;
using namespace outflow::op::controller;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const Clock::time_point kNow = Clock::time_point(24h);
constexpr std::chrono::milliseconds kResync = 10min;

json topic_entry(const std::string& name, const std::string& state = "Ready") {
  return {{"name", name}, {"partitions", 3}, {"replicationFactor", 1}, {"state", state},
          {"managed", true}, {"origin", "Created"}};
}

// A pipeline as the last operator left it: everything Ready at generation 4.
json reported_pipeline(const std::string& uid = "uid-1") {
  return {{"metadata", {{"namespace", "shop"}, {"name", "orders"}, {"uid", uid}, {"generation", 4},
                        {"creationTimestamp", "2026-05-01T00:00:00Z"}}},
          {"spec",
           {{"kafka", {{"bootstrapServers", {"kafka:9092"}}}},
            {"topics", {{{"name", "orders"}, {"partitions", 3}, {"replicationFactor", 1}},
                        {{"name", "payments"}, {"partitions", 3}, {"replicationFactor", 1}}}},
            {"outbox", {{"databaseSecretRef", {{"name", "orders-db"}, {"key", "url"}}}, {"defaultTopic", "orders"}}}}},
          {"status",
           {{"observedGeneration", 4},
            {"kafkaClusterId", "cluster-1"},
            {"topics", {topic_entry("orders"), topic_entry("payments")}},
            {"conditions",
             {{{"type", "TopicsReady"}, {"status", "True"}, {"reason", "AllTopicsReady"},
               {"message", "all 2 topics are ready"}, {"observedGeneration", 4},
               {"lastTransitionTime", "2026-05-01T00:00:05Z"}}}}}}};
}

Observed observed(json object = reported_pipeline()) {
  Observed o;
  o.pipeline = std::move(object);
  o.secrets = {{"orders-db", {{"url", "postgresql://outflow@db/orders"}}}};
  o.now = kNow;
  return o;
}

TEST(TopicsRecall, AStatusReadyAtTheCurrentGenerationSparesTheFirstCheck) {
  const auto o = observed();
  const auto known = recall_topics(o, kResync);
  ASSERT_TRUE(known.has_value());
  EXPECT_TRUE(known->condition.ready);
  EXPECT_EQ(known->condition.message, "all 2 topics are ready") << "reported as stored: no status write";
  EXPECT_EQ(known->cluster_id, "cluster-1");
  EXPECT_EQ(known->summary, "2/2");
  ASSERT_EQ(known->statuses.size(), 2u);
  EXPECT_EQ(known->statuses[1].origin, op::topics::TopicOrigin::Created) << "deletion still knows what it created";

  ReconcilerConfig config;
  config.defaults.agent_image = "outflow-agent:1";
  config.topic_checks.resync = kResync;
  const auto decision = decide(o, *known, {}, config);
  ASSERT_TRUE(std::holds_alternative<Proceed>(decision));
  EXPECT_EQ(std::get<Proceed>(decision).topics.action, TopicAction::Keep) << "no Admin call on the first pass";
}

TEST(TopicsRecall, ThePeriodicCheckStillComesWithinOneResyncAtAnOffsetOfItsOwn) {
  std::set<Clock::time_point> due;
  for (const auto* uid : {"uid-1", "uid-2", "uid-3", "uid-4"}) {
    const auto known = recall_topics(observed(reported_pipeline(uid)), kResync);
    ASSERT_TRUE(known.has_value());
    const auto next = op::topics::next_check(known->check, {.resync = kResync});
    EXPECT_GT(next, kNow);
    EXPECT_LE(next, kNow + kResync);
    due.insert(next);
  }
  EXPECT_GT(due.size(), 1u) << "pipelines recalled together are not all checked in the same instant";
  EXPECT_EQ(recall_topics(observed(), kResync)->check->at, recall_topics(observed(), kResync)->check->at);
}

TEST(TopicsRecall, ANewGenerationIsChecked) {
  auto object = reported_pipeline();
  object["metadata"]["generation"] = 5;
  EXPECT_FALSE(recall_topics(observed(object), kResync));
}

TEST(TopicsRecall, TopicsNotReadyAreChecked) {
  auto pending = reported_pipeline();
  pending["status"]["conditions"][0]["status"] = "False";
  EXPECT_FALSE(recall_topics(observed(pending), kResync));

  auto one_pending = reported_pipeline();
  one_pending["status"]["topics"][1] = topic_entry("payments", "Pending");
  EXPECT_FALSE(recall_topics(observed(one_pending), kResync));

  auto stale_condition = reported_pipeline();
  stale_condition["status"]["conditions"][0]["observedGeneration"] = 3;
  EXPECT_FALSE(recall_topics(observed(stale_condition), kResync));
}

TEST(TopicsRecall, AStatusThatDoesNotListEveryDesiredTopicAsOursIsChecked) {
  auto missing = reported_pipeline();
  missing["status"]["topics"].erase(1);
  EXPECT_FALSE(recall_topics(observed(missing), kResync));

  auto not_ours = reported_pipeline();
  not_ours["status"]["topics"][0]["managed"] = false;
  EXPECT_FALSE(recall_topics(observed(not_ours), kResync));
}

TEST(TopicsRecall, AnUnknownClusterOrAPipelineBeingDeletedIsChecked) {
  auto no_id = reported_pipeline();
  no_id["status"].erase("kafkaClusterId");
  EXPECT_FALSE(recall_topics(observed(no_id), kResync));

  auto deleting = reported_pipeline();
  deleting["metadata"]["deletionTimestamp"] = "2026-05-02T00:00:00Z";
  EXPECT_FALSE(recall_topics(observed(deleting), kResync));
}

TEST(TopicsRecall, AMissingKafkaSecretIsReportedNotRecalled) {
  auto object = reported_pipeline();
  object["spec"]["kafka"]["sasl"] = {{"mechanism", "SCRAM-SHA-512"},
                                     {"secretRef", {{"name", "kafka-user"}}}};
  EXPECT_FALSE(recall_topics(observed(object), kResync));
}

}  // namespace
