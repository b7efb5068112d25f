#pragma once

// Pure: what a delivery report (or an immediate refusal by produce()) means
// for the outbox row behind it, and whether the breaker should hear of it.
//
// The publisher's producer never gives up on a message by itself
// (message.timeout.ms is infinite, see kafka_producer.h), so an error here is
// never "it took too long": it is the broker or the client refusing the
// message, the producer failing for good, or a topic gone missing.

#include "agent/publisher/outbox_row.h"

#include <librdkafka/rdkafka.h>

#include <cstdint>

namespace outflow::agent::publisher {

// From a delivery report. Delivered; Refused for anything the broker refuses
// because of the message or its record batch, and for the fatal error that
// enable.gapless.guarantee raises so no later message of the partition can
// overtake it (the row is then sent again alone to find out which it was);
// Failed for the rest (the cluster's trouble: the breaker counts it).
//
// A success without an offset (`offset` < 0) is Failed too: librdkafka
// reports a batch "implicitly acked" when a later batch of its partition
// was taken, and a partition that has not seen the producer yet takes that
// later batch even after refusing the earlier one as not its leader
// (kafka_producer_test.cpp: the row was reported delivered and was not in
// the topic). Sent again, the row arrives late rather than never.
Outcome delivery_outcome(rd_kafka_resp_err_t error, std::int64_t offset, std::int64_t now_ms);

// From produce() refusing to queue the message: too large for the client's
// message.max.bytes is the row's fault (Poison, saying the client refused
// it); anything else (queue full, unknown topic, fatal) is Failed.
Outcome enqueue_outcome(rd_kafka_resp_err_t error, std::int64_t message_max_bytes);

// Whether the breaker counts this outcome: a success for Delivered, a
// failure for Failed, nothing for the rest, which say something about one
// message, not about the cluster.
enum class BreakerVerdict { Success, Failure, None };
BreakerVerdict breaker_verdict(const Outcome& outcome);

}  // namespace outflow::agent::publisher
