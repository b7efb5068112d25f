// Changes to topics this pipeline manages: partitions, replication factor, config.

#include "operator/topics/plan.h"

#include "unit/operator/topics/builders.h"

#include <gtest/gtest.h>

using namespace outflow::op::topics;
using namespace outflow::op::topics::testing;

namespace {

// One managed topic as the spec wants it and as the broker has it.
Plan plan_managed(outflow::pipeline::TopicSpec want, ObservedTopic have) {
  const std::string name = want.name;
  return plan({.desired = {std::move(want)},
               .observed = {{name, std::move(have)}},
               .managed = {name},
               .self = self()});
}

}  // namespace

TEST(TopicPlanPartitions, AnIncreaseGrowsTheTopicToTheNewTotal) {
  const auto p = plan_managed(topic("shop.orders", 12), existing(6));

  EXPECT_EQ(p.create_partitions, (std::vector<NewPartitions>{{"shop.orders", 12}}));
  EXPECT_TRUE(p.create.empty());
  EXPECT_TRUE(p.alter_configs.empty());
  const auto st = status_of(p, "shop.orders");
  EXPECT_EQ(st.state, TopicState::Pending);
  EXPECT_EQ(st.reason, "IncreasingPartitions");
  EXPECT_EQ(st.partitions, 6) << "status reports what the topic has until the call succeeds";
  EXPECT_TRUE(contains(st.message, "from 6 to 12")) << st.message;
}

TEST(TopicPlanPartitions, ADecreaseIsRefusedWithoutCallsNamingBothCounts) {
  const auto p = plan_managed(topic("shop.orders", 6), existing(12));

  EXPECT_FALSE(p.has_calls());
  const auto st = status_of(p, "shop.orders");
  EXPECT_EQ(st.state, TopicState::Error);
  EXPECT_EQ(st.reason, "PartitionDecreaseRefused");
  EXPECT_TRUE(st.managed) << "a refused change does not give the topic up";
  EXPECT_EQ(st.message,
            "topic shop.orders has 12 partitions; Kafka cannot reduce partitions (spec asks for "
            "6). Restore partitions: 12 or recreate the topic.");
}

TEST(TopicPlanPartitions, ARefusedDecreaseDoesNotHoldBackAConfigCorrection) {
  const auto p = plan_managed(topic("shop.orders", 6, 1, {{"retention.ms", "1000"}}),
                              existing(12, 1, {{"retention.ms", "5"}}));

  EXPECT_TRUE(p.create_partitions.empty());
  EXPECT_EQ(p.alter_configs.size(), 1u);
  const auto st = status_of(p, "shop.orders");
  EXPECT_EQ(st.state, TopicState::Error);
  EXPECT_EQ(st.reason, "PartitionDecreaseRefused");
  EXPECT_TRUE(contains(st.message, "recreate the topic. Correcting config of topic shop.orders"))
      << st.message;
  EXPECT_TRUE(contains(st.message, "retention.ms is 5 (spec: 1000)")) << st.message;
}

TEST(TopicPlanReplication, AReplicationFactorChangeIsRefusedWithoutCalls) {
  const auto p = plan_managed(topic("shop.orders", 3, 3), existing(3, 1));

  EXPECT_FALSE(p.has_calls());
  const auto st = status_of(p, "shop.orders");
  EXPECT_EQ(st.state, TopicState::Error);
  EXPECT_EQ(st.reason, "ReplicationFactorChangeRefused");
  EXPECT_EQ(st.replication_factor, 1);
  EXPECT_TRUE(contains(st.message, "topic shop.orders has replication factor 1 (spec asks for 3)"))
      << st.message;
  EXPECT_TRUE(contains(st.message, "reassign")) << st.message;
}

TEST(TopicPlanReplication, ARefusedReplicationChangeDoesNotHoldBackAPartitionIncrease) {
  const auto p = plan_managed(topic("shop.orders", 12, 3), existing(6, 1));

  EXPECT_EQ(p.create_partitions, (std::vector<NewPartitions>{{"shop.orders", 12}}));
  EXPECT_EQ(status_of(p, "shop.orders").reason, "ReplicationFactorChangeRefused");
}

TEST(TopicPlanReplication, BothRefusalsAreReportedFirstReasonPartitions) {
  const auto p = plan_managed(topic("t", 3, 3), existing(6, 1));

  const auto st = status_of(p, "t");
  EXPECT_EQ(st.reason, "PartitionDecreaseRefused");
  EXPECT_TRUE(contains(st.message, "replication factor 1")) << st.message;
}

TEST(TopicPlanConfig, AChangedValueIsCorrectedBySendingTheFullDesiredSet) {
  const Config want{{"retention.ms", "604800000"}, {"compression.type", "zstd"}};
  const auto p = plan_managed(
      topic("t", 3, 1, want),
      existing(3, 1, {{"retention.ms", "1000"}, {"compression.type", "zstd"}}));

  EXPECT_EQ(p.alter_configs, (std::vector<ConfigReplacement>{{"t", want}}));
  EXPECT_TRUE(p.create.empty());
  EXPECT_TRUE(p.create_partitions.empty());
  const auto st = status_of(p, "t");
  EXPECT_EQ(st.state, TopicState::Pending);
  EXPECT_EQ(st.reason, "UpdatingConfig");
  EXPECT_TRUE(contains(st.message, "retention.ms is 1000 (spec: 604800000)")) << st.message;
}

TEST(TopicPlanConfig, AMissingKeyIsCorrectedBySendingTheFullDesiredSet) {
  const Config want{{"retention.ms", "604800000"}, {"compression.type", "zstd"}};
  const auto p =
      plan_managed(topic("t", 3, 1, want), existing(3, 1, {{"compression.type", "zstd"}}));

  EXPECT_EQ(p.alter_configs, (std::vector<ConfigReplacement>{{"t", want}}));
}

// AlterConfigs replaces every override; sending the desired set is what resets
// the out-of-band one to the broker default.
TEST(TopicPlanConfig, AnOutOfBandOverrideIsResetBySendingOnlyTheDesiredSet) {
  const Config want{{"retention.ms", "604800000"}};
  const auto p = plan_managed(
      topic("t", 3, 1, want), existing(3, 1, {{"retention.ms", "604800000"}, {"segment.ms", "1"}}));

  EXPECT_EQ(p.alter_configs, (std::vector<ConfigReplacement>{{"t", want}}));
  EXPECT_TRUE(contains(status_of(p, "t").message, "segment.ms is 1 (spec: not set)"));
}

TEST(TopicPlanConfig, OverridesOnATopicWhoseSpecHasNoConfigAreCleared) {
  const auto p = plan_managed(topic("t"), existing(3, 1, {{"cleanup.policy", "compact"}}));

  EXPECT_EQ(p.alter_configs, (std::vector<ConfigReplacement>{{"t", {}}}));
}

TEST(TopicPlanConfig, EachKindOfCallIsOneBatchAcrossTopics) {
  const Config want{{"retention.ms", "1000"}};
  const auto p = plan({.desired = {topic("a", 6, 1, want), topic("b", 6, 1, want),
                                   topic("c", 3, 1, want), topic("d", 3, 1, want)},
                       .observed = {{"a", existing(3, 1, want)},
                                    {"b", existing(3, 1, want)},
                                    {"c", existing(3, 1)},
                                    {"d", existing(3, 1)}},
                       .managed = {"a", "b", "c", "d"},
                       .self = self()});

  EXPECT_EQ(p.create_partitions, (std::vector<NewPartitions>{{"a", 6}, {"b", 6}}));
  EXPECT_EQ(p.alter_configs, (std::vector<ConfigReplacement>{{"c", want}, {"d", want}}));
}
