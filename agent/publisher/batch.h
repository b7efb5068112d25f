#pragma once

// Pure: one batch of claimed rows, before and after Kafka. Before: which rows
// go to Kafka, which are poison already (and hold back the later rows of
// their key) and which wait a little (a topic the config does not declare
// yet). After: what to write back to the outbox, what to count, and whether a
// key's order was broken by an asynchronous failure.

#include "agent/publisher/outbox_row.h"
#include "agent/publisher/row_check.h"
#include "agent/publisher/topic_limits.h"
#include "common/pipeline/spec.h"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace outflow::agent::publisher {

struct PlanContext {
  // The destination topics' real limits; empty: not known, not checked.
  TopicLimitMap limits;
  std::int64_t now_ms = 0;  // wall clock, compared with the rows' created_at
  // How long a row naming an undeclared topic waits (from its created_at)
  // before it is poison: a config roll that adds the topic finishes well
  // within it, and the rows of its key keep their order meanwhile.
  std::int64_t undeclared_topic_grace_ms = 0;
};

struct BatchPlan {
  // One per claimed row: Poison for rows that can never go out, NotSent for
  // the rest until Kafka reports on them.
  std::vector<Outcome> outcomes;
  // Rows to produce, in outbox order, each with its index in `outcomes`.
  std::vector<std::pair<std::size_t, KafkaMessage>> to_send;
  // Rows that wait (undeclared topic within the grace): id and why.
  std::vector<std::pair<std::int64_t, std::string>> waiting;
};

BatchPlan plan_batch(const std::vector<OutboxRow>& rows, const pipeline::PipelineSpec& spec,
                     const PlanContext& context = {});

struct Settlement {
  std::vector<std::int64_t> published;                           // ids to mark (or delete)
  std::vector<std::pair<std::int64_t, std::string>> poison;      // ids to set aside, with reasons
  std::size_t failed = 0;    // stay pending: Kafka failed for now
  std::size_t refused = 0;   // stay pending: refused by the broker, to be sent alone
  std::size_t not_sent = 0;  // stay pending: never attempted
  std::int64_t last_refused_id = 0;  // the highest refused row id, 0: none
  std::vector<double> latencies_seconds;  // created_at to acknowledgement, per published row
  std::string last_error;                 // the last failure or poison reason, empty: none
  // Keys where a later row was acknowledged although an earlier one was not:
  // that key's order is broken (the idempotent producer should make this
  // impossible; it is logged loudly if it ever happens).
  std::vector<std::string> overtaken_keys;
};

Settlement settle(const std::vector<OutboxRow>& rows, const std::vector<Outcome>& outcomes);
// The same for one batch of a chain (drain_window.h): `stuck` holds the keys
// an earlier batch of the chain left a row of unpublished; a row of such a key
// acknowledged here overtook it. This batch's stuck keys are added to it.
Settlement settle(const std::vector<OutboxRow>& rows, const std::vector<Outcome>& outcomes,
                  std::set<std::string>& stuck);

}  // namespace outflow::agent::publisher
