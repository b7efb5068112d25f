// What the replayer does about its consumer's errors: a fatal one, from
// either way librdkafka reports it, replaces the consumer; the rest are told
// or logged as before.

#include "agent/replayer/consumer_errors.h"

#include <gtest/gtest.h>

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

}  // namespace
