#pragma once

// The agent's Prometheus metrics, registered once per process and served at
// /metrics. Every series carries the constant label pipeline="<name>": the
// operator's default alert rules (operator/workloads/prometheus_rule.cpp)
// select on it, together with the `namespace` label Prometheus adds from
// service discovery.
//
//   outflow_outbox_published_total          counter  rows published (delivery acknowledged)
//   outflow_outbox_poison_total             counter  rows set aside as poison
//   outflow_outbox_backlog                  gauge    pending rows in this pod's buckets
//   outflow_outbox_oldest_pending_seconds   gauge    age of the oldest of them; 0 when none
//   outflow_outbox_publish_latency_seconds  histogram  outbox commit to broker acknowledgement
//   outflow_breaker_state                   gauge    0 Closed, 1 Open, 2 HalfOpen
//   outflow_breaker_transitions_total       counter  {from, to}: closed, open, half_open
//   outflow_dlq_received_total              counter  dead letters taken from the DLQ topic
//   outflow_dlq_republished_total           counter  dead letters sent back to their topic
//   outflow_dlq_parked_total                counter  dead letters parked
//   outflow_dlq_given_up_total              counter  dead letters no topic would take, not even parked
//                                                      without their value (each logged as an error)
//   outflow_dlq_due_lag_seconds             histogram  how late each republished dead letter was past its
//                                                      due time (50 ms to 10 min)
//   outflow_dlq_consumer_failures_total     counter  replayer consumers fenced for good and replaced
//                                                      (repeats: two agents under one group.instance.id)
//
// outflow_breaker_state is one gauge with the state as its value, not one
// series per state: the OutflowBreakerOpen rule is
// `max(outflow_breaker_state{...}) > 0`, i.e. anything but Closed (0).
//
// Thread-safe: prometheus-cpp's metrics are atomic, so the publisher's
// threads and the /metrics handler may use one instance at once.

#include "common/breaker/circuit_breaker.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace outflow::agent {

// The value outflow_breaker_state takes for `state`.
double breaker_state_value(breaker::State state);

// The spelling of a state in outflow_breaker_transitions_total's from/to
// labels: "closed", "open", "half_open" (Prometheus' snake_case, where the
// status uses the CRD's CamelCase).
std::string_view breaker_label(breaker::State state);

class AgentMetrics {
 public:
  // `pipeline`: the EventPipeline's name (not its namespace, which Prometheus
  // adds itself; a `namespace` label of ours would clash with it).
  explicit AgentMetrics(const std::string& pipeline);
  AgentMetrics(const AgentMetrics&) = delete;
  AgentMetrics& operator=(const AgentMetrics&) = delete;

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // Outbox publisher.
  void published(std::size_t rows);
  void poisoned(std::size_t rows);
  // Commit to acknowledgement, per row. The commit time comes from the
  // database's clock: a negative value (clocks apart) counts as 0.
  void publish_latency(double seconds);
  // A breaker transition: counts it and sets outflow_breaker_state to `to`.
  void breaker_transition(breaker::State from, breaker::State to);
  // The latest measurement; nullopt `oldest_age_s` (nothing pending) sets 0,
  // so the stale-outbox alert reads "nothing waiting" rather than a leftover age.
  void backlog(std::int64_t rows, std::optional<std::int64_t> oldest_age_s);

  // Dead-letter replayer.
  void dlq_received(std::size_t messages = 1);
  void dlq_republished(std::size_t messages = 1);
  void dlq_parked(std::size_t messages = 1);
  void dlq_given_up(std::size_t messages = 1);
  void dlq_consumer_failed();
  // How far past its due time the replayer republished a dead letter, per
  // dead letter; 0 when it keeps up. A negative value (clocks apart) counts as 0.
  void dlq_due_lag(double seconds);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter& published_;
  prometheus::Counter& poison_;
  prometheus::Gauge& backlog_;
  prometheus::Gauge& oldest_pending_;
  prometheus::Histogram& publish_latency_;
  prometheus::Gauge& breaker_state_;
  prometheus::Family<prometheus::Counter>& breaker_transitions_;
  prometheus::Counter& dlq_received_;
  prometheus::Counter& dlq_republished_;
  prometheus::Counter& dlq_parked_;
  prometheus::Counter& dlq_given_up_;
  prometheus::Counter& dlq_consumer_failures_;
  prometheus::Histogram& dlq_due_lag_;
};

}  // namespace outflow::agent
