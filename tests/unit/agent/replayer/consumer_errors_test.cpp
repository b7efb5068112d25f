// What the replayer does about its consumer's errors: a fatal one, from
// either way librdkafka reports it, replaces the consumer; the rest are told
// or logged as before.

#include "agent/replayer/consumer_errors.h"

#include <gtest/gtest.h>

#include <vector>

using namespace outflow::agent::replayer;

namespace {

TEST(ConsumerErrorAction, AFatalErrorReplacesTheConsumerWhicheverWayItCame) {
  EXPECT_EQ(consumer_error_action(RD_KAFKA_RESP_ERR__FATAL, ConsumerErrorSource::Poll), ConsumerErrorAction::Replace);
  EXPECT_EQ(consumer_error_action(RD_KAFKA_RESP_ERR__FATAL, ConsumerErrorSource::Callback),
            ConsumerErrorAction::Replace);
}

TEST(ConsumerErrorAction, TheEndOfAPartitionIsNothing) {
  EXPECT_EQ(consumer_error_action(RD_KAFKA_RESP_ERR__PARTITION_EOF, ConsumerErrorSource::Poll),
            ConsumerErrorAction::Ignore);
}

TEST(ConsumerErrorAction, EveryBrokerDownIsToldButNotReplaced) {
  // The consumer reconnects by itself; a new one would only rejoin the group.
  EXPECT_EQ(consumer_error_action(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, ConsumerErrorSource::Callback),
            ConsumerErrorAction::Tell);
}

TEST(ConsumerErrorAction, OtherErrorsAreToldFromPollAndLoggedFromTheCallback) {
  EXPECT_EQ(consumer_error_action(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, ConsumerErrorSource::Poll),
            ConsumerErrorAction::Tell);
  EXPECT_EQ(consumer_error_action(RD_KAFKA_RESP_ERR__TRANSPORT, ConsumerErrorSource::Callback),
            ConsumerErrorAction::Debug);
}

TEST(ReplacementBackoff, AOneOffFenceIsReplacedAtOnce) {
  ReplacementBackoff backoff;
  EXPECT_EQ(backoff.replace_at(10'000), 10'000);
  backoff.replaced(10'000);
  // Fenced again long after: another one-off.
  EXPECT_EQ(backoff.replace_at(80'000), 80'000);
}

TEST(ReplacementBackoff, FencesSoonAfterEachReplacementWaitLongerAndLongerUpToTheCap) {
  ReplacementBackoff backoff({.calm_ms = 60'000, .first_wait_ms = 1'000, .max_wait_ms = 4'000});
  std::int64_t now = 0;
  EXPECT_EQ(backoff.replace_at(now), now);  // the first: at once
  backoff.replaced(now);
  now += 3'000;  // another consumer under the same instance id fenced the new one
  std::vector<std::int64_t> waits;
  for (int i = 0; i < 4; ++i) {
    const auto at = backoff.replace_at(now);
    waits.push_back(at - now);
    backoff.replaced(at);
    now = at + 3'000;
  }
  EXPECT_EQ(waits, (std::vector<std::int64_t>{1'000, 2'000, 4'000, 4'000}));
}

TEST(ReplacementBackoff, AReplacementThatLastedEndsTheStreak) {
  ReplacementBackoff backoff({.calm_ms = 60'000, .first_wait_ms = 1'000, .max_wait_ms = 300'000});
  backoff.replace_at(0);
  backoff.replaced(0);
  EXPECT_EQ(backoff.replace_at(2'000), 3'000);
  backoff.replaced(3'000);
  EXPECT_EQ(backoff.wait_ms(), 1'000);
  EXPECT_EQ(backoff.replace_at(63'000), 63'000);
  EXPECT_EQ(backoff.wait_ms(), 0);
}

}  // namespace
