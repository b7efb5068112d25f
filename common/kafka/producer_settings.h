#pragma once

// What every Outflow producer shares — the outbox publisher's and the
// dead-letter replayer's: the reliability settings, and which delivery errors
// say "this message can never go" rather than "the cluster is sick".

#include "common/kafka/client_config.h"

#include <librdkafka/rdkafka.h>

#include <vector>

namespace outflow::kafka {

// The connection's properties plus: idempotence (acks=all, no duplicates from
// the producer's own retries, order per partition), the partitioner Java
// clients use (so a key lands where their producers would put it), linger, and
// a delivery timeout of the pipeline's requestTimeoutMs, so the breaker hears
// of a sick cluster in seconds.
std::vector<Property> producer_properties(const ConnectionSettings& settings);

// Poison for this message, not a failure of the cluster: the broker will
// refuse it however often it is sent, so it must not count against the breaker.
bool is_permanent_for_message(rd_kafka_resp_err_t error);

}  // namespace outflow::kafka
