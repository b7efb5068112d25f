// Creating, adopting, ordering and the steady state of the topic plan.

#include "operator/topics/plan.h"

#include "unit/operator/topics/builders.h"

#include <gtest/gtest.h>

using namespace outflow::op::topics;
using namespace outflow::op::topics::testing;

TEST(TopicPlan, AMissingTopicIsCreatedWithItsPartitionsReplicationAndConfig) {
  const auto p = plan({.desired = {topic("shop.orders", 12, 3, {{"retention.ms", "604800000"}})},
                       .self = self()});

  ASSERT_EQ(p.create.size(), 1u);
  EXPECT_EQ(p.create[0].name, "shop.orders");
  EXPECT_EQ(p.create[0].partitions, 12);
  EXPECT_EQ(p.create[0].replication_factor, 3);
  EXPECT_EQ(p.create[0].config, (Config{{"retention.ms", "604800000"}}));
  EXPECT_TRUE(p.create_partitions.empty());
  EXPECT_TRUE(p.alter_configs.empty());

  const auto st = status_of(p, "shop.orders");
  EXPECT_EQ(st.state, TopicState::Pending);
  EXPECT_EQ(st.reason, "Creating");
  EXPECT_EQ(st.partitions, 12);
  EXPECT_EQ(st.replication_factor, 3);
  EXPECT_TRUE(st.managed);
  EXPECT_EQ(st.origin, TopicOrigin::Created);
  EXPECT_TRUE(contains(st.message, "shop.orders"));
}

TEST(TopicPlan, MissingTopicsAreBatchedIntoOneCreateRequest) {
  const auto p = plan({.desired = {topic("a"), topic("b"), topic("c")}, .self = self()});

  EXPECT_EQ(names_of(p.create), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(p.create_partitions.empty());
  EXPECT_TRUE(p.alter_configs.empty());
}

TEST(TopicPlan, AManagedTopicDeletedOutOfBandIsCreatedAgain) {
  const auto p =
      plan({.desired = {topic("shop.orders")}, .managed = {"shop.orders"}, .self = self()});

  EXPECT_EQ(names_of(p.create), (std::vector<std::string>{"shop.orders"}));
}

TEST(TopicPlan, SteadyStateMakesNoCallsAndEveryTopicIsReady) {
  const Config config{{"retention.ms", "1000"}, {"compression.type", "zstd"}};
  const auto p = plan({.desired = {topic("a", 12, 3, config), topic("b", 1, 1)},
                       .observed = {{"a", existing(12, 3, config)}, {"b", existing(1, 1)}},
                       .managed = {"a", "b"},
                       .self = self()});

  EXPECT_FALSE(p.has_calls());
  EXPECT_TRUE(p.adopted.empty());
  for (const auto& st : p.topics) {
    SCOPED_TRACE(st.name);
    EXPECT_EQ(st.state, TopicState::Ready);
    EXPECT_EQ(st.reason, "UpToDate");
    EXPECT_TRUE(st.managed);
  }
  EXPECT_EQ(status_of(p, "a").partitions, 12);
  EXPECT_EQ(status_of(p, "a").replication_factor, 3);
}

TEST(TopicPlan, CallsAndStatusesFollowTheDesiredOrderNotNameOrder) {
  const std::vector<std::string> order{"shop.orders", "shop.orders.dlq",
                                       "shop.orders.dlq.retry.2", "shop.orders.dlq.retry.10",
                                       "audit"};
  std::vector<outflow::pipeline::TopicSpec> desired;
  for (const auto& name : order) desired.push_back(topic(name));

  const auto p = plan({.desired = desired, .self = self()});

  EXPECT_EQ(names_of(p.create), order);
  EXPECT_EQ(names_of(p.topics), order);
}

TEST(TopicPlan, ADuplicateDesiredNameIsPlannedOnceFromItsFirstEntry) {
  const auto p = plan({.desired = {topic("a", 3), topic("a", 6)}, .self = self()});

  ASSERT_EQ(p.create.size(), 1u);
  EXPECT_EQ(p.create[0].partitions, 3);
  EXPECT_EQ(p.topics.size(), 1u);
}

TEST(TopicPlanAdoption, APreExistingTopicThatMatchesTheSpecIsAdoptedWithoutCalls) {
  const Config config{{"retention.ms", "1000"}};
  const auto p = plan({.desired = {topic("legacy", 6, 3, config)},
                       .observed = {{"legacy", existing(6, 3, config)}},
                       .self = self()});

  EXPECT_FALSE(p.has_calls());
  EXPECT_EQ(p.adopted, (std::vector<std::string>{"legacy"}));
  const auto st = status_of(p, "legacy");
  EXPECT_EQ(st.state, TopicState::Ready);
  EXPECT_EQ(st.reason, "Adopted");
  EXPECT_TRUE(st.managed);
  EXPECT_EQ(st.origin, TopicOrigin::Adopted) << "adopted, not created: Delete keeps it";
}

TEST(TopicPlanOrigin, AManagedTopicKeepsTheOriginRecordedForIt) {
  const auto p = plan({.desired = {topic("made"), topic("found"), topic("legacy")},
                       .observed = {{"made", existing()}, {"found", existing()}, {"legacy", existing()}},
                       .managed = {"made", "found", "legacy"},
                       .origins = {{"made", TopicOrigin::Created}, {"found", TopicOrigin::Adopted}},
                       .self = self()});
  EXPECT_EQ(status_of(p, "made").origin, TopicOrigin::Created);
  EXPECT_EQ(status_of(p, "found").origin, TopicOrigin::Adopted);
  EXPECT_EQ(status_of(p, "legacy").origin, TopicOrigin::Unknown)
      << "recorded before origins were: not known to be created, so never deleted";
}

TEST(TopicPlanAdoption, AnAdoptedTopicIsManagedLikeAnyOtherInTheNextRound) {
  const auto p = plan({.desired = {topic("legacy", 12)},
                       .observed = {{"legacy", existing(6)}},
                       .managed = {"legacy"},
                       .self = self()});

  EXPECT_TRUE(p.adopted.empty());
  EXPECT_EQ(p.create_partitions, (std::vector<NewPartitions>{{"legacy", 12}}));
}

TEST(TopicPlanAdoption, APreExistingTopicWithOtherPartitionsIsLeftAloneEvenForAnIncrease) {
  const auto p = plan(
      {.desired = {topic("legacy", 12)}, .observed = {{"legacy", existing(6)}}, .self = self()});

  EXPECT_FALSE(p.has_calls());
  EXPECT_TRUE(p.adopted.empty());
  const auto st = status_of(p, "legacy");
  EXPECT_EQ(st.state, TopicState::Error);
  EXPECT_EQ(st.reason, "TopicExistsWithDifferentSettings");
  EXPECT_FALSE(st.managed);
  EXPECT_EQ(st.partitions, 6);
  EXPECT_TRUE(contains(st.message, "legacy")) << st.message;
  EXPECT_TRUE(contains(st.message, "partitions is 6 (spec: 12)")) << st.message;
}

TEST(TopicPlanAdoption, APreExistingTopicWithAnotherReplicationFactorIsLeftAlone) {
  const auto p = plan({.desired = {topic("legacy", 3, 3)},
                       .observed = {{"legacy", existing(3, 1)}},
                       .self = self()});

  EXPECT_FALSE(p.has_calls());
  EXPECT_EQ(status_of(p, "legacy").reason, "TopicExistsWithDifferentSettings");
  EXPECT_TRUE(contains(status_of(p, "legacy").message, "replicationFactor is 1 (spec: 3)"));
}

TEST(TopicPlanAdoption, APreExistingTopicWithADifferentOrMissingConfigValueIsLeftAlone) {
  const auto p = plan(
      {.desired = {topic("a", 3, 1, {{"retention.ms", "1000"}}),
                   topic("b", 3, 1, {{"retention.ms", "1000"}})},
       .observed = {{"a", existing(3, 1, {{"retention.ms", "5"}})}, {"b", existing(3, 1)}},
       .self = self()});

  EXPECT_FALSE(p.has_calls());
  EXPECT_EQ(status_of(p, "a").reason, "TopicExistsWithDifferentSettings");
  EXPECT_TRUE(contains(status_of(p, "a").message, "retention.ms is 5 (spec: 1000)"));
  EXPECT_EQ(status_of(p, "b").reason, "TopicExistsWithDifferentSettings");
  EXPECT_TRUE(contains(status_of(p, "b").message, "retention.ms is not set (spec: 1000)"));
}

// Managing the topic would mean replacing its overrides with the spec's set,
// wiping this one; so it is not an exact match.
TEST(TopicPlanAdoption, AnOverrideTheSpecDoesNotListBlocksAdoption) {
  const auto p = plan(
      {.desired = {topic("legacy")},
       .observed = {{"legacy", existing(3, 1, {{"max.message.bytes", "10485760"}})}},
       .self = self()});

  EXPECT_FALSE(p.has_calls());
  EXPECT_TRUE(p.adopted.empty());
  EXPECT_EQ(status_of(p, "legacy").reason, "TopicExistsWithDifferentSettings");
  EXPECT_TRUE(contains(status_of(p, "legacy").message, "max.message.bytes is 10485760"));
}
