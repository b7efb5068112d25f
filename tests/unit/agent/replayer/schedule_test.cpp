// The retry ladder: one delay per tier, capped, and which tier an attempt waits in.

#include "agent/replayer/schedule.h"

#include <gtest/gtest.h>

using namespace outflow;
using namespace outflow::agent::replayer;
using namespace std::chrono_literals;

namespace {

pipeline::DeadLetterSpec dead_letter(int max_attempts, std::int64_t initial, int multiplier, std::int64_t max) {
  pipeline::DeadLetterSpec d;
  d.topic = "shop.orders.dlq";
  d.max_attempts = max_attempts;
  d.backoff = {initial, multiplier, max};
  return d;
}

}  // namespace

TEST(RetrySchedule, DelayGrowsByTheMultiplierUntilCapped) {
  const RetrySchedule s(dead_letter(6, 500, 2, 4000));
  EXPECT_EQ(s.delay(1), 500ms);
  EXPECT_EQ(s.delay(2), 1000ms);
  EXPECT_EQ(s.delay(3), 2000ms);
  EXPECT_EQ(s.delay(4), 4000ms);
  EXPECT_EQ(s.delay(5), 4000ms);
  EXPECT_EQ(s.delay(6), 4000ms);
}

TEST(RetrySchedule, CapIsExactWhenMaxIsNotAMultipleOfTheStep) {
  const RetrySchedule s(dead_letter(3, 1000, 2, 4001));
  EXPECT_EQ(s.delay(3), 4000ms);  // 1000 × 2², below the cap
  const RetrySchedule t(dead_letter(4, 1000, 3, 5000));
  EXPECT_EQ(t.delay(2), 3000ms);
  EXPECT_EQ(t.delay(3), 5000ms);
}

TEST(RetrySchedule, MultiplierOneGivesTheSameDelayEverywhere) {
  const RetrySchedule s(dead_letter(5, 750, 1, 600000));
  for (int tier = 1; tier <= 5; ++tier) EXPECT_EQ(s.delay(tier), 750ms);
}

TEST(RetrySchedule, FiftyTiersWithMultiplierTenDoNotOverflow) {
  const RetrySchedule s(dead_letter(50, 86400000, 10, 604800000));
  EXPECT_EQ(s.delay(1), 86400000ms);
  EXPECT_EQ(s.delay(2), 604800000ms);
  EXPECT_EQ(s.delay(50), 604800000ms);
}

TEST(RetrySchedule, TierOutsideTheLadderIsRefused) {
  const RetrySchedule s(dead_letter(3, 500, 2, 4000));
  EXPECT_THROW((void)s.delay(0), std::out_of_range);
  EXPECT_THROW((void)s.delay(4), std::out_of_range);
}

TEST(RetrySchedule, AttemptWaitsInItsOwnTierAndIsParkedAfterMaxAttempts) {
  const RetrySchedule s(dead_letter(3, 500, 2, 4000));
  EXPECT_EQ(s.tier_for_attempt(1), 1);
  EXPECT_EQ(s.tier_for_attempt(2), 2);
  EXPECT_EQ(s.tier_for_attempt(3), 3);
  EXPECT_EQ(s.tier_for_attempt(4), std::nullopt);
  EXPECT_EQ(s.tier_for_attempt(400), std::nullopt);
  EXPECT_THROW((void)s.tier_for_attempt(0), std::invalid_argument);
}

TEST(RetrySchedule, DueIsEntryTimePlusTheTierDelay) {
  const RetrySchedule s(dead_letter(3, 500, 2, 4000));
  EXPECT_EQ(s.due_ms(1, 1'700'000'000'000), 1'700'000'000'500);
  EXPECT_EQ(s.due_ms(3, 1'700'000'000'000), 1'700'000'002'000);
}

TEST(RetrySchedule, RejectsASpecParseSpecWouldHaveRefused) {
  EXPECT_THROW(RetrySchedule(dead_letter(0, 500, 2, 4000)), std::invalid_argument);
  EXPECT_THROW(RetrySchedule(dead_letter(3, 0, 2, 4000)), std::invalid_argument);
  EXPECT_THROW(RetrySchedule(dead_letter(3, 500, 0, 4000)), std::invalid_argument);
  EXPECT_THROW(RetrySchedule(dead_letter(3, 5000, 2, 4000)), std::invalid_argument);
}

// The operator creates the topics and the replayer reads and writes them,
// both through common/pipeline/dead_letter_topics.h.
TEST(RetryTopics, AreTheDeadLetterTopicWithATierOrParkedSuffix) {
  EXPECT_EQ(retry_tier_topic("a.dlq", 3), "a.dlq.retry.3");
  EXPECT_EQ(retry_tier_topic("shop.orders.dlq", 50), "shop.orders.dlq.retry.50");
  EXPECT_EQ(parked_topic("a.dlq"), "a.dlq.parked");
}
