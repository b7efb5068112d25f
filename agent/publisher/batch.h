#pragma once

// Pure: one batch of claimed rows, before and after Kafka. Before: which rows
// go to Kafka and which are poison already (and hold back the later rows of
// their key). After: what to write back to the outbox, what to count, and
// whether a key's order was broken by an asynchronous failure.

#include "agent/publisher/outbox_row.h"
#include "agent/publisher/row_check.h"
#include "common/pipeline/spec.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace outflow::agent::publisher {

struct BatchPlan {
  // One per claimed row: Poison for rows that can never go out, NotSent for
  // the rest until Kafka reports on them.
  std::vector<Outcome> outcomes;
  // Rows to produce, in outbox order, each with its index in `outcomes`.
  std::vector<std::pair<std::size_t, KafkaMessage>> to_send;
};

BatchPlan plan_batch(const std::vector<OutboxRow>& rows, const pipeline::PipelineSpec& spec);

struct Settlement {
  std::vector<std::int64_t> published;                           // ids to mark (or delete)
  std::vector<std::pair<std::int64_t, std::string>> poison;      // ids to set aside, with reasons
  std::size_t failed = 0;    // stay pending: Kafka failed for now
  std::size_t not_sent = 0;  // stay pending: never attempted
  std::vector<double> latencies_seconds;  // created_at to acknowledgement, per published row
  std::string last_error;                 // the last failure or poison reason, empty: none
  // Keys where a later row was acknowledged although an earlier one was not:
  // that key's order is broken (the idempotent producer should make this
  // impossible; it is logged loudly if it ever happens).
  std::vector<std::string> overtaken_keys;
};

Settlement settle(const std::vector<OutboxRow>& rows, const std::vector<Outcome>& outcomes);

}  // namespace outflow::agent::publisher
