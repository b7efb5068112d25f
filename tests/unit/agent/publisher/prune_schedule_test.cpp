// When and where the housekeeper prunes: pure decisions on an injected clock.

#include "agent/publisher/prune_schedule.h"

#include <gtest/gtest.h>

using namespace outflow::agent::publisher;
using namespace std::chrono_literals;
using Clock = PruneSchedule::Clock;

namespace {

PruneSettings settings() {
  PruneSettings s;
  s.interval = 60s;
  s.budget = 1000ms;
  s.full_pass_interval = 3600s;
  s.min_batch = 100;
  s.initial_batch = 1000;
  s.max_batch = 8000;
  return s;
}

PruneStep deleted_up_to(std::int64_t last_id, long deleted) {
  PruneStep step;
  step.deleted = deleted;
  step.scanned = deleted;
  step.last_id = last_id;
  return step;
}

}  // namespace

TEST(PruneSchedule, APassWalksTheIdsUpwardsUntilTheFrontierThenWaitsTheInterval) {
  const auto t0 = Clock::time_point{} + 1000s;
  PruneSchedule s(settings(), t0);
  ASSERT_TRUE(s.due(t0));
  s.begin_run(t0);
  EXPECT_EQ(s.cursor(), 0);
  EXPECT_TRUE(s.record(deleted_up_to(1000, 1000), 10ms, t0 + 10ms));
  EXPECT_EQ(s.cursor(), 1000);
  PruneStep frontier;
  frontier.scanned = 1000;
  frontier.last_id = 2000;
  frontier.first_recent = 1001;
  frontier.all_created_after_cutoff = true;
  EXPECT_FALSE(s.record(frontier, 10ms, t0 + 20ms));
  EXPECT_FALSE(s.due(t0 + 59s));
  EXPECT_TRUE(s.due(t0 + 20ms + 60s));
  // The frontier's rows become due later: the next pass starts before them.
  EXPECT_EQ(s.cursor(), 1000);
}

TEST(PruneSchedule, RowsPendingOrTooRecentDoNotStopThePassButMarkWhereTheNextStarts) {
  const auto t0 = Clock::time_point{} + 1000s;
  PruneSchedule s(settings(), t0);
  s.begin_run(t0);
  PruneStep pending_only;  // rows held back behind a poison row: nothing to delete, go on
  pending_only.scanned = 1000;
  pending_only.last_id = 1000;
  EXPECT_TRUE(s.record(pending_only, 10ms, t0));
  PruneStep mixed = deleted_up_to(2000, 400);
  mixed.scanned = 1000;
  mixed.first_recent = 1500;  // published lately, not due yet
  EXPECT_TRUE(s.record(mixed, 10ms, t0));
  PruneStep end;  // no ids after the cursor
  EXPECT_FALSE(s.record(end, 10ms, t0));
  EXPECT_EQ(s.cursor(), 1499);
}

TEST(PruneSchedule, ARunStopsAtItsBudgetAndComesBackSoonWhileBehind) {
  const auto t0 = Clock::time_point{} + 1000s;
  PruneSchedule s(settings(), t0);
  s.begin_run(t0);
  EXPECT_TRUE(s.record(deleted_up_to(1000, 1000), 100ms, t0 + 900ms));
  EXPECT_FALSE(s.record(deleted_up_to(2000, 1000), 100ms, t0 + 1000ms));
  EXPECT_EQ(s.cursor(), 2000);  // the pass goes on where it stopped
  EXPECT_FALSE(s.due(t0 + 1200ms));
  EXPECT_TRUE(s.due(t0 + 1250ms));
}

TEST(PruneSchedule, BatchesGrowWhileStepsAreQuickAndShrinkWhenTheyAreSlow) {
  const auto t0 = Clock::time_point{} + 1000s;
  PruneSchedule s(settings(), t0);
  s.begin_run(t0);
  EXPECT_EQ(s.batch(), 1000);
  s.record(deleted_up_to(1000, 1000), 10ms, t0);
  EXPECT_EQ(s.batch(), 2000);
  for (int i = 0; i < 5; ++i) s.record(deleted_up_to(2000 + i, 1), 10ms, t0);
  EXPECT_EQ(s.batch(), 8000);  // capped
  s.record(deleted_up_to(3000, 1), 400ms, t0);
  EXPECT_EQ(s.batch(), 4000);
  for (int i = 0; i < 10; ++i) s.record(deleted_up_to(4000 + i, 1), 400ms, t0);
  EXPECT_EQ(s.batch(), 100);  // floored
  s.record(deleted_up_to(5000, 1), 100ms, t0);
  EXPECT_EQ(s.batch(), 100);  // on target: unchanged
}

TEST(PruneSchedule, AFullPassFromTheStartComesEveryFullPassInterval) {
  const auto t0 = Clock::time_point{} + 1000s;
  PruneSchedule s(settings(), t0);
  s.begin_run(t0);
  EXPECT_FALSE(s.record(PruneStep{}, 10ms, t0));  // an empty table: the pass ends
  s.begin_run(t0 + 60s);
  s.record(deleted_up_to(9000, 10), 10ms, t0 + 60s);
  EXPECT_FALSE(s.record(PruneStep{}, 10ms, t0 + 60s));
  EXPECT_EQ(s.cursor(), 9000);
  s.begin_run(t0 + 120s);
  EXPECT_EQ(s.cursor(), 9000);
  s.begin_run(t0 + 3600s);
  EXPECT_EQ(s.cursor(), 0);
}

TEST(PruneSchedule, AFailedStatementRestartsThePassAfterTheInterval) {
  const auto t0 = Clock::time_point{} + 1000s;
  PruneSchedule s(settings(), t0);
  s.begin_run(t0);
  s.record(deleted_up_to(1000, 1000), 10ms, t0);
  s.failed(t0 + 1s);
  EXPECT_EQ(s.cursor(), 0);
  EXPECT_FALSE(s.due(t0 + 30s));
  EXPECT_TRUE(s.due(t0 + 61s));
}
