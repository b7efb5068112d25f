#pragma once

// How many record batches the broker appended to a topic, read from its log
// segments on disk. A batch is the broker's unit of work per partition, and
// librdkafka sends each partition's batch in a produce request of its own, so
// for the agent this is also its number of produce requests; the Java client
// and kafkajs put the batches of many partitions in one request.

#include <string>

namespace outflow::bench {

// Batches in every partition of `topic`; -1 when the test environment's
// broker log directory cannot be read.
long record_batches_on_disk(const std::string& topic, int partitions);

}  // namespace outflow::bench
