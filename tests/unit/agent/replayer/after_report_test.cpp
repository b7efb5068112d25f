// What the replayer does with a delivery report: a copy Kafka took is done;
// a failure is tried again; a refusal is tried once more alone, then
// something smaller goes, until nothing smaller is left.

#include "agent/replayer/after_report.h"

#include <gtest/gtest.h>

using namespace outflow::agent::replayer;

namespace {

constexpr std::int64_t kNow = 1'000'000;
constexpr std::int64_t kBackoff = 500;

DeliveryReport refused(std::string why = "Kafka refused it for orders.dlq.parked: Broker: Message size too large") {
  return {false, true, std::move(why)};
}

}  // namespace

TEST(AfterReport, ACopyKafkaTookIsDone) {
  EXPECT_TRUE(std::holds_alternative<Done>(after_report({true, false, ""}, {Republish{"orders", 2, 0}, 1, 10}, kNow,
                                                        kBackoff)));
}

TEST(AfterReport, ACopyReportedDeliveredWithoutAnOffsetIsSentAgainAfterTheBackOff) {
  const auto next = after_report({true, false, "", true}, {Park{"retries used up"}, 1, 10}, kNow, kBackoff);
  const auto* again = std::get_if<SendAgain>(&next);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->route, Route(Park{"retries used up"}));
  EXPECT_EQ(again->refusals, 1) << "its refusals so far still count";
  EXPECT_EQ(again->at_ms, kNow + kBackoff);
}

TEST(AfterReport, AFailureThatIsNotTheMessagesOwnSendsTheSameAgainAfterTheBackOff) {
  const auto next = after_report({false, false, "Local: Message timed out"}, {MoveToTier{2}, 0, 10}, kNow, kBackoff);
  const auto* again = std::get_if<SendAgain>(&next);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->route, Route(MoveToTier{2}));
  EXPECT_EQ(again->refusals, 0);
  EXPECT_EQ(again->at_ms, kNow + kBackoff);
}

TEST(AfterReport, AFirstRefusalIsTriedOnceMoreUnchangedBecauseANeighbourMayHaveCausedIt) {
  const auto next = after_report(refused(), {Republish{"orders", 2, 0}, 0, 10}, kNow, kBackoff);
  const auto* again = std::get_if<SendAgain>(&next);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->route, Route(Republish{"orders", 2, 0}));
  EXPECT_EQ(again->refusals, 1);
  EXPECT_EQ(again->at_ms, kNow + kBackoff);
}

TEST(AfterReport, ASecondRefusalSendsSomethingSmallerAtOnceWithItsRefusalsCountedAfresh) {
  const auto why = "Kafka refused it for orders: Broker: Message size too large";
  const auto next = after_report(refused(why), {Republish{"orders", 2, 0}, 1, 10}, kNow, kBackoff);
  const auto* again = std::get_if<SendAgain>(&next);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->route, Route(Park{why}));
  EXPECT_EQ(again->refusals, 0);
  EXPECT_EQ(again->at_ms, kNow);
}

TEST(AfterReport, ACopyWithoutItsValueRefusedTwiceIsGivenUpWithKafkasReason) {
  const auto why = "Kafka refused it for orders.dlq.parked: Broker: Message size too large";
  const auto next = after_report(refused(why), {Park{"retries used up", 70'000}, 1, 70'000}, kNow, kBackoff);
  const auto* gave_up = std::get_if<GiveUp>(&next);
  ASSERT_NE(gave_up, nullptr);
  EXPECT_EQ(gave_up->why, why);
}
