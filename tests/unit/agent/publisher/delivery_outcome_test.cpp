// What a delivery report means for its row and for the breaker.

#include "agent/publisher/delivery_outcome.h"

#include <gtest/gtest.h>

using namespace outflow::agent::publisher;

TEST(DeliveryOutcome, AcknowledgedIsDeliveredAtTheGivenTime) {
  const auto o = delivery_outcome(RD_KAFKA_RESP_ERR_NO_ERROR, 17, 1234);
  ASSERT_TRUE(std::holds_alternative<Delivered>(o));
  EXPECT_EQ(std::get<Delivered>(o).acknowledged_at_ms, 1234);
}

TEST(DeliveryOutcome, ASuccessWithoutAnOffsetIsNoProofAndTheRowIsSentAgain) {
  const auto o = delivery_outcome(RD_KAFKA_RESP_ERR_NO_ERROR, RD_KAFKA_OFFSET_INVALID, 1234);
  ASSERT_TRUE(std::holds_alternative<Failed>(o));
  EXPECT_NE(std::get<Failed>(o).error.find("implicitly"), std::string::npos) << std::get<Failed>(o).error;
  EXPECT_TRUE(std::holds_alternative<Delivered>(delivery_outcome(RD_KAFKA_RESP_ERR_NO_ERROR, 0, 1234)))
      << "offset 0 is a partition's first";
}

TEST(DeliveryOutcome, WholeBatchRefusalsAreRefusedNotPoisonSoTheRowIsTriedAlone) {
  for (const auto e : {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_RECORD,
                       RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_MSG}) {
    const auto o = delivery_outcome(e, RD_KAFKA_OFFSET_INVALID, 0);
    ASSERT_TRUE(std::holds_alternative<Refused>(o)) << rd_kafka_err2name(e);
    EXPECT_TRUE(std::get<Refused>(o).message_at_fault);
    EXPECT_NE(std::get<Refused>(o).error.find("the broker refused it"), std::string::npos);
    EXPECT_EQ(breaker_verdict(o), BreakerVerdict::None);
  }
}

TEST(DeliveryOutcome, AFatalStopIsRefusedWithoutBlamingTheMessage) {
  for (const auto e : {RD_KAFKA_RESP_ERR__FATAL, RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE}) {
    const auto o = delivery_outcome(e, RD_KAFKA_OFFSET_INVALID, 0);
    ASSERT_TRUE(std::holds_alternative<Refused>(o));
    EXPECT_FALSE(std::get<Refused>(o).message_at_fault);
    EXPECT_EQ(breaker_verdict(o), BreakerVerdict::None);
  }
}

TEST(DeliveryOutcome, TheClustersTroubleIsAFailureTheBreakerCounts) {
  for (const auto e : {RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                       RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED}) {
    const auto o = delivery_outcome(e, RD_KAFKA_OFFSET_INVALID, 0);
    ASSERT_TRUE(std::holds_alternative<Failed>(o)) << rd_kafka_err2name(e);
    EXPECT_EQ(breaker_verdict(o), BreakerVerdict::Failure);
  }
  EXPECT_EQ(breaker_verdict(Delivered{1}), BreakerVerdict::Success);
  EXPECT_EQ(breaker_verdict(NotSent{}), BreakerVerdict::None);
}

TEST(EnqueueOutcome, TooLargeForTheClientIsPoisonSayingTheClientRefusedIt) {
  const auto o = enqueue_outcome(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, 1'000'000);
  ASSERT_TRUE(std::holds_alternative<Poison>(o));
  EXPECT_NE(std::get<Poison>(o).reason.find("the client refused it"), std::string::npos);
  EXPECT_NE(std::get<Poison>(o).reason.find("1000000"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<Failed>(enqueue_outcome(RD_KAFKA_RESP_ERR__QUEUE_FULL, 1)));
}
