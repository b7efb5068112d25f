#include "operator/topics/check_schedule.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <vector>

using namespace outflow::op::topics;
using outflow::Clock;
using namespace std::chrono_literals;

namespace {

// An arbitrary instant; only differences matter.
const Clock::time_point t0 = Clock::time_point{} + 24h;
constexpr const char* kConnection = "conn-a";

CheckPolicy policy() {
  CheckPolicy p;
  p.resync = 10min;
  p.pending_retry = 2s;
  p.initial_backoff = 1s;
  p.max_backoff = 10s;
  return p;
}

CheckHistory checked(CheckOutcome outcome, Clock::time_point at = t0, int failures = 0) {
  return {7, kConnection, at, outcome, failures};
}

bool due(const std::optional<CheckHistory>& last, Clock::time_point now) {
  return check_due(last, 7, kConnection, now, policy());
}

}  // namespace

TEST(TopicCheckSchedule, ANeverCheckedPipelineIsDueAtOnce) {
  EXPECT_TRUE(check_due(std::nullopt, 1, kConnection, t0, policy()));
  EXPECT_LE(next_check(std::nullopt, policy()), t0);
}

TEST(TopicCheckSchedule, ANewGenerationIsDueAtOnce) {
  const auto last = checked(CheckOutcome::Ready);
  EXPECT_FALSE(check_due(last, 7, kConnection, t0 + 1s, policy()));
  EXPECT_TRUE(check_due(last, 8, kConnection, t0 + 1s, policy()));
}

TEST(TopicCheckSchedule, ANewConnectionIsDueAtOnce) {
  // Rotated credentials or another cluster: what was checked no longer applies.
  const auto last = checked(CheckOutcome::Ready);
  EXPECT_TRUE(check_due(last, 7, "conn-b", t0 + 1s, policy()));
}

TEST(TopicCheckSchedule, ReadyTopicsWaitForTheResync) {
  const auto last = checked(CheckOutcome::Ready);
  EXPECT_EQ(next_check(last, policy()), t0 + 10min);
  EXPECT_FALSE(due(last, t0));
  EXPECT_FALSE(due(last, t0 + 10min - 1ms));
  EXPECT_TRUE(due(last, t0 + 10min));
  EXPECT_TRUE(due(last, t0 + 1h));
}

TEST(TopicCheckSchedule, ARefusedPlanWaitsForASpecChangeOrTheResync) {
  const auto last = checked(CheckOutcome::Refused);
  EXPECT_FALSE(due(last, t0 + 10min - 1ms));
  EXPECT_TRUE(due(last, t0 + 10min));
}

TEST(TopicCheckSchedule, PendingTopicsAreRecheckedSoon) {
  const auto last = checked(CheckOutcome::Pending);
  EXPECT_EQ(next_check(last, policy()), t0 + 2s);
  EXPECT_FALSE(due(last, t0 + 2s - 1ms));
  EXPECT_TRUE(due(last, t0 + 2s));
}

TEST(TopicCheckSchedule, AnUnreachableBrokerIsRetriedWithADoublingBackOffUpToTheCap) {
  std::optional<CheckHistory> last;
  auto now = t0;
  std::vector<std::chrono::milliseconds> waits;
  for (int attempt = 0; attempt < 7; ++attempt) {
    last = record_check(last, 7, kConnection, CheckOutcome::Unreachable, now);
    const auto next = next_check(last, policy());
    waits.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(next - now));
    EXPECT_FALSE(due(last, next - 1ms)) << "attempt " << attempt;
    EXPECT_TRUE(due(last, next)) << "attempt " << attempt;
    now = next;
  }
  EXPECT_EQ(waits, (std::vector<std::chrono::milliseconds>{1s, 2s, 4s, 8s, 10s, 10s, 10s}));
}

TEST(TopicCheckSchedule, TheBackOffStaysCappedAfterManyFailures) {
  EXPECT_EQ(next_check(checked(CheckOutcome::Unreachable, t0, 1000), policy()), t0 + 10s);
}

TEST(TopicCheckSchedule, DefaultPolicyBacksOffFromOneSecondToFiveMinutes) {
  const CheckPolicy defaults;
  EXPECT_EQ(next_check(checked(CheckOutcome::Unreachable, t0, 1), defaults), t0 + 1s);
  EXPECT_EQ(next_check(checked(CheckOutcome::Unreachable, t0, 2), defaults), t0 + 2s);
  EXPECT_EQ(next_check(checked(CheckOutcome::Unreachable, t0, 3), defaults), t0 + 4s);
  EXPECT_EQ(next_check(checked(CheckOutcome::Unreachable, t0, 60), defaults), t0 + 5min);
}

TEST(TopicCheckSchedule, RecordKeepsWhatTheCheckWasAbout) {
  const auto h = record_check(std::nullopt, 3, kConnection, CheckOutcome::Pending, t0);
  EXPECT_EQ(h.generation, 3);
  EXPECT_EQ(h.connection, kConnection);
  EXPECT_EQ(h.at, t0);
  EXPECT_EQ(h.outcome, CheckOutcome::Pending);
  EXPECT_EQ(h.consecutive_failures, 0);
}

TEST(TopicCheckSchedule, FailuresCountUpWhileTheBrokerStaysUnreachable) {
  auto h = record_check(std::nullopt, 7, kConnection, CheckOutcome::Unreachable, t0);
  EXPECT_EQ(h.consecutive_failures, 1);
  h = record_check(h, 7, kConnection, CheckOutcome::Unreachable, t0 + 1s);
  h = record_check(h, 7, kConnection, CheckOutcome::Unreachable, t0 + 3s);
  EXPECT_EQ(h.consecutive_failures, 3);
}

TEST(TopicCheckSchedule, ASuccessfulCheckResetsTheBackOff) {
  auto h = record_check(std::nullopt, 7, kConnection, CheckOutcome::Unreachable, t0);
  h = record_check(h, 7, kConnection, CheckOutcome::Unreachable, t0 + 1s);
  h = record_check(h, 7, kConnection, CheckOutcome::Ready, t0 + 3s);
  EXPECT_EQ(h.consecutive_failures, 0);
  h = record_check(h, 7, kConnection, CheckOutcome::Unreachable, t0 + 1h);
  EXPECT_EQ(h.consecutive_failures, 1);
  EXPECT_EQ(next_check(h, policy()), t0 + 1h + 1s);
}

TEST(TopicCheckSchedule, APendingCheckAlsoResetsTheBackOff) {
  auto h = record_check(std::nullopt, 7, kConnection, CheckOutcome::Unreachable, t0);
  h = record_check(h, 7, kConnection, CheckOutcome::Pending, t0 + 1s);
  h = record_check(h, 7, kConnection, CheckOutcome::Unreachable, t0 + 3s);
  EXPECT_EQ(h.consecutive_failures, 1);
}

TEST(TopicCheckSchedule, ANewConnectionStartsTheBackOffAfresh) {
  auto h = record_check(std::nullopt, 7, kConnection, CheckOutcome::Unreachable, t0);
  h = record_check(h, 7, kConnection, CheckOutcome::Unreachable, t0 + 1s);
  h = record_check(h, 7, kConnection, CheckOutcome::Unreachable, t0 + 3s);
  h = record_check(h, 7, "conn-b", CheckOutcome::Unreachable, t0 + 4s);
  EXPECT_EQ(h.consecutive_failures, 1);
  EXPECT_EQ(h.connection, "conn-b");
  EXPECT_EQ(next_check(h, policy()), t0 + 5s);
}
