#pragma once

// The few librdkafka conversions the replayer's adapter needs, kept out of
// its event loop: the eventfd that wakes it, headers in and out, where a
// consumed message came from, and a commit of the offset book's positions.

#include "agent/replayer/headers.h"
#include "agent/replayer/offset_book.h"
#include "agent/replayer/topic_partition.h"
#include "common/event_fd.h"
#include "common/kafka/handles.h"

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <string>
#include <vector>

namespace outflow::agent::replayer {

TopicPartition source_of(const rd_kafka_message_t* m);
Headers headers_of(const rd_kafka_message_t* m);
kafka::HeadersHandle to_kafka(const Headers& headers);
// A list of one partition, at `offset` (RD_KAFKA_OFFSET_INVALID: unset).
kafka::PartitionListHandle one_partition(const TopicPartition& tp, std::int64_t offset = RD_KAFKA_OFFSET_INVALID);

// Makes `queue` write to `wake` when it turns non-empty, so the replayer's
// loop sleeps on one fd for both its clients and stop(). `wake` must outlive
// the client that owns the queue.
void attach(rd_kafka_queue_t* queue, const EventFd& wake);

// Asks the group to commit `positions` (OffsetBook::committable); `sync`:
// waits for the broker, otherwise the result comes through the consumer's
// offset-commit callback. Nothing to ask for is no error.
rd_kafka_resp_err_t commit_positions(rd_kafka_t* consumer, const std::vector<CommitPosition>& positions, bool sync);

}  // namespace outflow::agent::replayer
