#include "operator/status/conditions.h"

#include <gtest/gtest.h>

using namespace outflow::op::status;

TEST(StatusConditions, ANewConditionGetsTheCurrentTime) {
  const auto c = set_condition({}, make_condition("TopicsReady", true, "AllTopicsReady", "8/8", 3), "T1");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].status, "True");
  EXPECT_EQ(c[0].last_transition_time, "T1");
  EXPECT_EQ(c[0].observed_generation, 3);
}

TEST(StatusConditions, TransitionTimeMovesOnlyWhenTheStatusFlips) {
  auto c = set_condition({}, make_condition("Ready", false, "TopicsPending", "a", 1), "T1");
  c = set_condition(c, make_condition("Ready", false, "AgentsProgressing", "b", 2), "T2");
  EXPECT_EQ(c[0].last_transition_time, "T1");
  EXPECT_EQ(c[0].reason, "AgentsProgressing");
  EXPECT_EQ(c[0].observed_generation, 2);
  c = set_condition(c, make_condition("Ready", true, "Reconciled", "c", 2), "T3");
  EXPECT_EQ(c[0].last_transition_time, "T3");
}

TEST(StatusConditions, SettingTheSameConditionAgainChangesNothing) {
  const auto once = set_condition({}, make_condition("Ready", true, "Reconciled", "m", 4), "T1");
  const auto twice = set_condition(once, make_condition("Ready", true, "Reconciled", "m", 4), "T9");
  EXPECT_EQ(once, twice);
  EXPECT_EQ(to_json(once), to_json(twice));
}

TEST(StatusConditions, OtherTypesAreLeftAlone) {
  auto c = set_condition({}, make_condition("TopicsReady", true, "AllTopicsReady", "", 1), "T1");
  c = set_condition(c, make_condition("AgentsReady", false, "AgentsProgressing", "", 1), "T2");
  ASSERT_EQ(c.size(), 2u);
  ASSERT_NE(find_condition(c, "TopicsReady"), nullptr);
  EXPECT_EQ(find_condition(c, "TopicsReady")->last_transition_time, "T1");
  EXPECT_EQ(find_condition(c, "Missing"), nullptr);
}

TEST(StatusConditions, JsonRoundTripUsesMetav1FieldNames) {
  const auto c = set_condition({}, make_condition("Ready", true, "Reconciled", "ok", 7), "2026-01-01T00:00:00Z");
  const auto j = to_json(c);
  EXPECT_EQ(j[0]["lastTransitionTime"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(j[0]["observedGeneration"], 7);
  EXPECT_EQ(conditions_from_json(j), c);
  EXPECT_TRUE(conditions_from_json(nullptr).empty());
}
