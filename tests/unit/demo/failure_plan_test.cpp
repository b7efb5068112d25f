// The demo's failing consumer: which attempts it fails, and when the story is over.

#include "demo/failure_plan.h"

#include <gtest/gtest.h>

using namespace outflow::demo;

namespace {

TEST(FailurePlan, FailsOnceThenProcessesTheRetry) {
  FailurePlan plan({{"order-1", 1}}, 2);
  EXPECT_EQ(plan.judge("order-1", 1), Verdict::Fail);
  EXPECT_FALSE(plan.done());
  EXPECT_EQ(plan.judge("order-1", 2), Verdict::Process);
  EXPECT_TRUE(plan.done());
}

TEST(FailurePlan, AKeyThatKeepsFailingEndsWhenTheRetriesAreUsedUp) {
  // maxAttempts 2: attempts 1, 2 and 3 fail; the third failure is parked.
  FailurePlan plan({{"order-2", 99}}, 2);
  EXPECT_EQ(plan.judge("order-2", 1), Verdict::Fail);
  EXPECT_EQ(plan.judge("order-2", 2), Verdict::Fail);
  EXPECT_EQ(plan.awaited(), std::vector<std::string>{"order-2 attempt 3"});
  EXPECT_EQ(plan.judge("order-2", 3), Verdict::Fail);
  EXPECT_TRUE(plan.done());
}

TEST(FailurePlan, OtherKeysAndRedeliveriesAreLeftAlone) {
  FailurePlan plan({{"order-1", 1}}, 2);
  EXPECT_EQ(plan.judge("order-7", 1), Verdict::Ignore);
  EXPECT_EQ(plan.judge("order-1", 1), Verdict::Fail);
  // The same attempt again (at-least-once) is not a second failure.
  EXPECT_EQ(plan.judge("order-1", 1), Verdict::Ignore);
}

TEST(FailurePlan, DoneOnlyWhenEveryKeyIsDone) {
  FailurePlan plan({{"order-1", 1}, {"order-2", 5}}, 1);
  plan.judge("order-1", 1);
  plan.judge("order-1", 2);
  EXPECT_FALSE(plan.done());
  EXPECT_EQ(plan.awaited(), std::vector<std::string>{"order-2 attempt 2"});
  plan.judge("order-2", 1);
  plan.judge("order-2", 2);
  EXPECT_TRUE(plan.done());
}

TEST(FailurePlan, ParsesRulesAndRefusesOthers) {
  const auto r = parse_failure_rule("order=7=2");
  EXPECT_EQ(r.key, "order=7");
  EXPECT_EQ(r.failures, 2);
  for (const char* bad : {"order-1", "=2", "order-1=0", "order-1=x", "order-1="}) {
    EXPECT_THROW(parse_failure_rule(bad), std::invalid_argument) << bad;
  }
}

TEST(FailurePlan, AttemptHeader) {
  EXPECT_EQ(attempt_of(std::nullopt), 1);
  EXPECT_EQ(attempt_of(std::string("3")), 3);
  EXPECT_EQ(attempt_of(std::string("0")), std::nullopt);
  EXPECT_EQ(attempt_of(std::string("two")), std::nullopt);
}

}  // namespace
