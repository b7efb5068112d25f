#pragma once

// The few librdkafka conversions the replayer's adapter needs, kept out of
// its event loop: the eventfd that wakes it, headers in and out, and where a
// consumed message came from.

#include "agent/replayer/headers.h"
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

// The eventfd librdkafka writes to when its queues turn non-empty, and
// stop() writes to as well. Must outlive the clients that write to it.
class EventFd {
 public:
  EventFd();
  ~EventFd();
  EventFd(const EventFd&) = delete;
  EventFd& operator=(const EventFd&) = delete;

  int fd() const { return fd_; }
  void signal() const;
  void drain() const;
  // Sleeps until signalled or `timeout_ms` passed.
  void wait(int timeout_ms) const;
  // Makes `queue` write to this eventfd when it turns non-empty.
  void attach(rd_kafka_queue_t* queue) const;

 private:
  int fd_;
};

}  // namespace outflow::agent::replayer
