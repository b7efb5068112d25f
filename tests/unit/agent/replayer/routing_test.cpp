// What the replayer does with each message, with time passed in by hand.

#include "agent/replayer/routing.h"

#include <gtest/gtest.h>

using namespace outflow;
using namespace outflow::agent::replayer;

namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000;

RoutingRules rules() {
  pipeline::PipelineSpec spec;
  spec.topics = {{"shop.orders", 3, 1, {}}, {"shop.payments", 3, 1, {}}};
  spec.outbox.default_topic = "shop.orders";
  pipeline::DeadLetterSpec d;
  d.topic = "shop.dlq";
  d.max_attempts = 3;
  d.backoff = {500, 2, 4000};
  spec.dead_letter = d;
  return routing_rules(spec);
}

Headers dead_letter(int attempt, const std::string& topic = "shop.orders") {
  Headers h{{"trace-id", "t1"}, {"outflow-original-topic", topic}, {"outflow-error", "boom"}};
  if (attempt > 0) h.push_back({"outflow-attempt", std::to_string(attempt)});
  return h;
}

}  // namespace

TEST(Routing, FromTheDeadLetterTopicEachAttemptGoesToItsTier) {
  const auto r = rules();
  EXPECT_EQ(route(dead_letter(0), {0, kT0}, kT0, r), Route(MoveToTier{1}));  // absent = 1
  EXPECT_EQ(route(dead_letter(1), {0, kT0}, kT0, r), Route(MoveToTier{1}));
  EXPECT_EQ(route(dead_letter(2), {0, kT0}, kT0, r), Route(MoveToTier{2}));
  EXPECT_EQ(route(dead_letter(3), {0, kT0}, kT0, r), Route(MoveToTier{3}));
}

TEST(Routing, AfterMaxAttemptsTheMessageIsParked) {
  EXPECT_EQ(route(dead_letter(4), {0, kT0}, kT0, rules()),
            Route(Park{"retries used up: attempt 4 failed and deadLetter.maxAttempts is 3"}));
}

TEST(Routing, ATierMessageWaitsUntilDueAndIsThenRepublishedAsTheNextAttempt) {
  const auto r = rules();
  // Entered tier 2 (1000 ms) at kT0.
  EXPECT_EQ(route(dead_letter(2), {2, kT0}, kT0, r), Route(NotYetDue{kT0 + 1000}));
  EXPECT_EQ(route(dead_letter(2), {2, kT0}, kT0 + 999, r), Route(NotYetDue{kT0 + 1000}));
  EXPECT_EQ(route(dead_letter(2), {2, kT0}, kT0 + 1000, r), Route(Republish{"shop.orders", 3, kT0 + 1000}));
  EXPECT_EQ(route(dead_letter(2), {2, kT0}, kT0 + 60000, r), Route(Republish{"shop.orders", 3, kT0 + 1000}));
}

TEST(Routing, TheTierNotTheHeaderDecidesTheNextAttempt) {
  EXPECT_EQ(route(dead_letter(7), {1, kT0}, kT0 + 500, rules()), Route(Republish{"shop.orders", 2, kT0 + 500}));
}

TEST(Routing, OneDelayPerTier) {
  const auto r = rules();
  EXPECT_EQ(route(dead_letter(1), {1, kT0}, kT0, r), Route(NotYetDue{kT0 + 500}));
  EXPECT_EQ(route(dead_letter(3), {3, kT0}, kT0, r), Route(NotYetDue{kT0 + 2000}));
}

TEST(Routing, UnknownTimestampIsDueAtOnce) {
  EXPECT_EQ(route(dead_letter(1), {1, -1}, kT0, rules()), Route(Republish{"shop.orders", 2, kT0}));
}

TEST(Routing, HeaderlessMessagesAreParkedWithTheReason) {
  const auto r = rules();
  const Route expected = Park{"no original-topic header (outflow-original-topic, kafka_dlt-original-topic or "
                              "__connect.errors.topic)"};
  EXPECT_EQ(route({}, {0, kT0}, kT0, r), expected);
  EXPECT_EQ(route({{"x", "y"}}, {2, kT0}, kT0 + 10000, r), expected);
}

TEST(Routing, ATopicOutsideThePipelineIsParked) {
  const auto r = rules();
  EXPECT_EQ(route(dead_letter(1, "billing.invoices"), {0, kT0}, kT0, r),
            Route(Park{"original topic billing.invoices is not part of the pipeline"}));
  // Not even the pipeline's own ladder: that would loop.
  EXPECT_EQ(route(dead_letter(1, "shop.dlq.retry.1"), {1, kT0}, kT0 + 500, r),
            Route(Park{"original topic shop.dlq.retry.1 is not part of the pipeline"}));
  EXPECT_EQ(route(dead_letter(1, "shop.payments"), {0, kT0}, kT0, r), Route(MoveToTier{1}));
}

TEST(Routing, SpringAndConnectDeadLettersAreRouted) {
  const auto r = rules();
  EXPECT_EQ(route({{"kafka_dlt-original-topic", "shop.payments"}}, {0, kT0}, kT0, r), Route(MoveToTier{1}));
  EXPECT_EQ(route({{"__connect.errors.topic", "shop.orders"}, {"outflow-attempt", "2"}}, {0, kT0}, kT0, r),
            Route(MoveToTier{2}));
}

TEST(Routing, ATierAboveMaxAttemptsIsParkedRatherThanGuessed) {
  EXPECT_EQ(route(dead_letter(4), {4, kT0}, kT0 + 100000, rules()),
            Route(Park{"retry tier 4 is above deadLetter.maxAttempts 3"}));
}

TEST(RepublishHeaders, KeepEverythingAndReplaceTheAttempt) {
  const Headers in{{"trace-id", "t1"}, {"outflow-attempt", "1"}, {"outflow-original-topic", "shop.orders"},
                   {"outflow-attempt", "2"}, {"nullable", std::nullopt}};
  const Headers expected{{"trace-id", "t1"}, {"outflow-original-topic", "shop.orders"},
                         {"nullable", std::nullopt}, {"outflow-attempt", "3"}};
  EXPECT_EQ(republish_headers(in, 3), expected);
}

TEST(ParkedHeaders, KeepEverythingAndSayWhy) {
  const Headers in{{"trace-id", "t1"}, {"outflow-parked-reason", "old"}, {"outflow-attempt", "4"}};
  const Headers expected{{"trace-id", "t1"}, {"outflow-attempt", "4"}, {"outflow-parked-reason", "why"}};
  EXPECT_EQ(parked_headers(in, Park{"why"}), expected);
}

TEST(ParkedHeaders, ACopyWithoutItsValueSaysHowBigTheValueWas) {
  const Headers in{{"trace-id", "t1"}, {"outflow-parked-value-dropped", "7"}};
  const Headers expected{{"trace-id", "t1"}, {"outflow-parked-reason", "why"}, {"outflow-parked-value-dropped", "50000"}};
  EXPECT_EQ(parked_headers(in, Park{"why", 50000}), expected) << "an earlier trip's size is replaced";
}

TEST(TierHeaders, KeepEverythingAndSayWhereTheCopyCameFrom) {
  const Headers in{{"trace-id", "t1"}, {"outflow-moved-from", "dlq/1/3"}, {"outflow-attempt", "2"}};
  const Headers expected{{"trace-id", "t1"}, {"outflow-attempt", "2"}, {"outflow-moved-from", "dlq/0/42"}};
  EXPECT_EQ(tier_headers(in, moved_from("dlq", 0, 42)), expected) << "an earlier trip's position is replaced";
}

TEST(RepublishHeaders, DropTheTierPosition) {
  const Headers in{{"trace-id", "t1"}, {"outflow-moved-from", "dlq/0/42"}, {"outflow-attempt", "1"}};
  const Headers expected{{"trace-id", "t1"}, {"outflow-attempt", "2"}};
  EXPECT_EQ(republish_headers(in, 2), expected);
}

TEST(TierPartition, OneDeadLetterPartitionGoesToOneTierPartition) {
  EXPECT_EQ(tier_partition(0, 3), 0);
  EXPECT_EQ(tier_partition(2, 3), 2);
  EXPECT_EQ(tier_partition(4, 3), 1) << "more dead-letter partitions than tier partitions wrap";
  EXPECT_EQ(tier_partition(5, 0), 0) << "an unknown count cannot divide by zero";
}
