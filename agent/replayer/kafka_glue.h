#pragma once

// The few librdkafka conversions the replayer's adapter needs, kept out of
// its event loop: the eventfd that wakes it, headers in and out, and where a
// consumed message came from.

#include "agent/replayer/headers.h"
#include "common/event_fd.h"
#include "common/kafka/handles.h"

#include <librdkafka/rdkafka.h>

#include <compare>
#include <cstdint>
#include <string>

namespace outflow::agent::replayer {

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

TopicPartition source_of(const rd_kafka_message_t* m);
Headers headers_of(const rd_kafka_message_t* m);
kafka::HeadersHandle to_kafka(const Headers& headers);
// A list of one partition, at `offset` (RD_KAFKA_OFFSET_INVALID: unset).
kafka::PartitionListHandle one_partition(const TopicPartition& tp, std::int64_t offset = RD_KAFKA_OFFSET_INVALID);

// Makes `queue` write to `wake` when it turns non-empty, so the replayer's
// loop sleeps on one fd for both its clients and stop(). `wake` must outlive
// the client that owns the queue.
void attach(rd_kafka_queue_t* queue, const EventFd& wake);

}  // namespace outflow::agent::replayer
