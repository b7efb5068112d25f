#pragma once

// One pending outbox row as the publisher reads it, and what became of it.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace outflow::agent::publisher {

struct OutboxRow {
  std::int64_t id = 0;
  std::string event_id;              // uuid text, sent as header outflow-event-id
  std::optional<std::string> topic;  // NULL: spec.outbox.defaultTopic
  std::optional<std::string> key;    // NULL: no key, no order promise
  std::string payload;               // bytes, may hold NULs
  std::optional<std::string> headers_json;  // jsonb as text
  std::int64_t created_at_ms = 0;    // ms since epoch, for commit-to-ack latency
};

// Kafka acknowledged the row (acks=all): mark or delete it.
struct Delivered {
  std::int64_t acknowledged_at_ms = 0;
};
// The row can never be published as it is: set it aside with this reason.
struct Poison {
  std::string reason;
};
// Kafka failed for now (timeout, brokers down, queue full): the row stays
// pending and is read again in order; the breaker hears about it.
struct Failed {
  std::string error;
};
// The broker refused the message, possibly only because of others sent in
// the same record batch (librdkafka reports a batch's error on every message
// of it): the row stays pending and is sent again alone before anyone calls
// it poison. Not a sign of a sick cluster: the breaker does not hear of it.
struct Refused {
  std::string error;
  // The broker named this message (or its record batch) as the problem;
  // false: the producer failed for good and took the message down with it.
  bool message_at_fault = true;
};
// Not attempted (breaker refused, an earlier row of its key did not go out,
// or the agent is stopping): stays pending, nobody is told anything.
struct NotSent {};

using Outcome = std::variant<Delivered, Poison, Failed, Refused, NotSent>;

}  // namespace outflow::agent::publisher
