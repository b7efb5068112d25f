// A row the topic would refuse is known before it is sent, and the producer
// never builds a record batch some topic would refuse.

#include "agent/publisher/topic_limits.h"

#include <gtest/gtest.h>

using namespace outflow::agent::publisher;

namespace {

OutboxRow row(std::optional<std::string> key, std::size_t payload_bytes) {
  OutboxRow r;
  r.id = 1;
  r.key = std::move(key);
  r.payload.assign(payload_bytes, 'x');
  return r;
}

KafkaMessage message(std::string topic, std::vector<Header> headers = {}) {
  return KafkaMessage{std::move(topic), std::move(headers)};
}

}  // namespace

TEST(SingleRecordBatchBytes, CountsKeyPayloadAndHeadersAboveTheBatchHeader) {
  const auto bare = single_record_batch_bytes(std::nullopt, 0, {});
  EXPECT_GE(bare, 61);  // the v2 record batch header alone
  EXPECT_EQ(single_record_batch_bytes(std::string("abcd"), 100, {}), bare + 104);
  const auto with_header = single_record_batch_bytes(std::nullopt, 0, {{"outflow-event-id", std::string(36, 'e')}});
  EXPECT_GE(with_header, bare + 16 + 36);
  EXPECT_GT(single_record_batch_bytes(std::nullopt, 0, {{"h", std::nullopt}}), bare);
}

TEST(RefusedByTopic, ARowOverTheTopicsLimitIsPoisonNamingTheTopicTheLimitAndTheSize) {
  const TopicLimitMap limits = {{"small", {4096, false}}};
  const auto poison = refused_by_topic(row("k", 5000), message("small"), limits);
  ASSERT_TRUE(poison.has_value());
  EXPECT_NE(poison->reason.find("\"small\""), std::string::npos) << poison->reason;
  EXPECT_NE(poison->reason.find("max.message.bytes of 4096"), std::string::npos) << poison->reason;
  EXPECT_NE(poison->reason.find("not sent"), std::string::npos) << poison->reason;
  EXPECT_FALSE(refused_by_topic(row("k", 2000), message("small"), limits).has_value());
}

TEST(RefusedByTopic, JustUnderTheLimitPassesAndOneByteMoreDoesNot) {
  const auto size = single_record_batch_bytes(std::string("k"), 1000, {});
  const TopicLimitMap exact = {{"t", {size, false}}};
  EXPECT_FALSE(refused_by_topic(row("k", 1000), message("t"), exact).has_value());
  EXPECT_TRUE(refused_by_topic(row("k", 1001), message("t"), exact).has_value());
}

TEST(RefusedByTopic, AKeylessRowForACompactedTopicIsPoison) {
  const TopicLimitMap limits = {{"compacted", {1'000'000, true}}};
  const auto poison = refused_by_topic(row(std::nullopt, 10), message("compacted"), limits);
  ASSERT_TRUE(poison.has_value());
  EXPECT_NE(poison->reason.find("without a key"), std::string::npos);
  EXPECT_FALSE(refused_by_topic(row("k", 10), message("compacted"), limits).has_value());
}

TEST(RefusedByTopic, ATopicWithUnknownLimitsIsNotChecked) {
  EXPECT_FALSE(refused_by_topic(row("k", 50'000'000), message("unknown"), {}).has_value());
}

TEST(ProducerBounds, TheSmallestTopicBoundsBatchesAndTheLargestBoundsMessages) {
  const TopicLimitMap limits = {{"a", {4096, false}}, {"b", {1'048'588, false}}, {"c", {8'000'000, false}}};
  const auto bounds = producer_bounds(limits);
  EXPECT_EQ(bounds.batch_bytes, 4096);
  EXPECT_EQ(bounds.message_max_bytes, 8'000'000);
}

TEST(ProducerBounds, WithoutKnownLimitsTheClientDefaultsStay) {
  EXPECT_EQ(producer_bounds({}), ProducerBounds{});
  EXPECT_EQ(producer_bounds({{"a", {0, false}}}), ProducerBounds{});
  // Larger topic limits never make batches bigger than librdkafka's default.
  EXPECT_EQ(producer_bounds({{"a", {5'000'000, false}}}).batch_bytes, 1'000'000);
}
