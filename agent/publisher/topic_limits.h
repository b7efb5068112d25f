#pragma once

// Pure: what each destination topic accepts, and how big a row is in the
// broker's eyes, so a row the broker would refuse is set aside before it is
// sent (and cannot take the rows of other keys down with its record batch),
// and so the producer never builds a record batch a topic would refuse.
//
// Kafka checks max.message.bytes against a whole record batch (v2 format,
// as the producer sent it: Outflow's producer does not compress), so a row is
// measured as a record batch holding it alone.

#include "agent/publisher/row_check.h"
#include "common/kafka/record_size.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>

namespace outflow::agent::publisher {

struct TopicLimits {
  std::int64_t max_message_bytes = 0;  // the topic's effective max.message.bytes
  bool compacted = false;              // cleanup.policy includes compact: records need a key
  bool operator==(const TopicLimits&) const = default;
};
using TopicLimitMap = std::map<std::string, TopicLimits>;

// Shared with the dead-letter replayer (common/kafka/record_size.h); a row's
// Header is a kafka::RecordHeader.
using kafka::single_record_batch_bytes;
static_assert(std::is_same_v<Header, kafka::RecordHeader>);

// Why the topic will refuse this row, or nullopt when it will take it. A topic
// missing from `limits` is not checked (its limits are not known yet).
std::optional<Poison> refused_by_topic(const OutboxRow& row, const KafkaMessage& message,
                                       const TopicLimitMap& limits);

// librdkafka's batch.size (bytes of one partition's record batch, framing
// included) and message.max.bytes (the largest message it accepts at all).
struct ProducerBounds {
  std::int64_t batch_bytes = 1'000'000;
  std::int64_t message_max_bytes = 1'000'000;
  bool operator==(const ProducerBounds&) const = default;
};

// batch.size is one setting for every topic, so the smallest topic limit
// bounds it: a record batch bigger than its topic's limit is refused whole,
// ordinary rows and all. message.max.bytes must let the largest row any topic
// takes through. Both within librdkafka's ranges and never above its defaults
// for batch.size (larger batches only add latency).
ProducerBounds producer_bounds(const TopicLimitMap& limits);

}  // namespace outflow::agent::publisher
