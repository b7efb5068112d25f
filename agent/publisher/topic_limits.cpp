#include "agent/publisher/topic_limits.h"

#include <fmt/format.h>

#include <algorithm>

namespace outflow::agent::publisher {
namespace {

constexpr std::int64_t kDefaultBatchBytes = 1'000'000;
constexpr std::int64_t kDefaultMessageMaxBytes = 1'000'000;
constexpr std::int64_t kMessageMaxBytesCeiling = 1'000'000'000;  // librdkafka's range

}  // namespace

std::optional<Poison> refused_by_topic(const OutboxRow& row, const KafkaMessage& message,
                                       const TopicLimitMap& limits) {
  const auto it = limits.find(message.topic);
  if (it == limits.end()) return std::nullopt;
  const auto& limit = it->second;
  if (limit.compacted && !row.key) {
    return Poison{fmt::format("topic \"{}\" is compacted (cleanup.policy) and the broker refuses records "
                              "without a key; checked before sending",
                              message.topic)};
  }
  const auto bytes = single_record_batch_bytes(row.key, row.payload.size(), message.headers);
  if (limit.max_message_bytes > 0 && bytes > limit.max_message_bytes) {
    return Poison{fmt::format("{} bytes as a record (key, payload and headers) is over topic \"{}\"'s "
                              "max.message.bytes of {}; the broker would refuse it, so it was not sent",
                              bytes, message.topic, limit.max_message_bytes)};
  }
  return std::nullopt;
}

ProducerBounds producer_bounds(const TopicLimitMap& limits) {
  ProducerBounds bounds;
  std::int64_t smallest = kDefaultBatchBytes;
  std::int64_t largest = kDefaultMessageMaxBytes;
  for (const auto& [topic, limit] : limits) {
    if (limit.max_message_bytes <= 0) continue;
    smallest = std::min(smallest, limit.max_message_bytes);
    largest = std::max(largest, limit.max_message_bytes);
  }
  bounds.batch_bytes = std::max<std::int64_t>(1, smallest);
  bounds.message_max_bytes = std::clamp<std::int64_t>(largest, 1000, kMessageMaxBytesCeiling);
  return bounds;
}

}  // namespace outflow::agent::publisher
