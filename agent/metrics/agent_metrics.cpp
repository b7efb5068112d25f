#include "agent/metrics/agent_metrics.h"

#include <utility>

namespace outflow::agent {
namespace {

using prometheus::Labels;
using prometheus::Registry;

prometheus::Counter& counter(Registry& registry, const Labels& constant, const std::string& name,
                             const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Labels(constant).Register(registry).Add({});
}

prometheus::Gauge& gauge(Registry& registry, const Labels& constant, const std::string& name,
                         const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Labels(constant).Register(registry).Add({});
}

// 1 ms (a local broker) to 60 s (rows that waited out an open breaker).
prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

// 50 ms (a replayer keeping up; the fetch wait alone is 100 ms) to 10 min
// (dead letters that waited out an outage or an open breaker).
prometheus::Histogram::BucketBoundaries due_lag_buckets() {
  return {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
}

}  // namespace

double breaker_state_value(breaker::State state) {
  switch (state) {
    case breaker::State::Closed:
      return 0;
    case breaker::State::Open:
      return 1;
    case breaker::State::HalfOpen:
      return 2;
  }
  return 0;
}

std::string_view breaker_label(breaker::State state) {
  switch (state) {
    case breaker::State::Closed:
      return "closed";
    case breaker::State::Open:
      return "open";
    case breaker::State::HalfOpen:
      return "half_open";
  }
  return "unknown";
}

AgentMetrics::AgentMetrics(const std::string& pipeline)
    : registry_(std::make_shared<Registry>()),
      published_(counter(*registry_, {{"pipeline", pipeline}}, "outflow_outbox_published_total",
                         "Outbox rows published to Kafka (delivery acknowledged)")),
      poison_(counter(*registry_, {{"pipeline", pipeline}}, "outflow_outbox_poison_total",
                      "Outbox rows set aside as poison (see their last_error)")),
      backlog_(gauge(*registry_, {{"pipeline", pipeline}}, "outflow_outbox_backlog",
                     "Pending outbox rows in the buckets this agent owns")),
      oldest_pending_(gauge(*registry_, {{"pipeline", pipeline}},
                            "outflow_outbox_oldest_pending_seconds",
                            "Age of the oldest pending outbox row this agent owns; 0 when none")),
      publish_latency_(prometheus::BuildHistogram()
                           .Name("outflow_outbox_publish_latency_seconds")
                           .Help("Time from an outbox row's commit to Kafka's acknowledgement")
                           .Labels({{"pipeline", pipeline}})
                           .Register(*registry_)
                           .Add({}, latency_buckets())),
      breaker_state_(gauge(*registry_, {{"pipeline", pipeline}}, "outflow_breaker_state",
                           "Kafka circuit breaker: 0 closed, 1 open, 2 half-open")),
      breaker_transitions_(prometheus::BuildCounter()
                               .Name("outflow_breaker_transitions_total")
                               .Help("Kafka circuit breaker transitions by from and to state")
                               .Labels({{"pipeline", pipeline}})
                               .Register(*registry_)),
      dlq_received_(counter(*registry_, {{"pipeline", pipeline}}, "outflow_dlq_received_total",
                            "Dead letters taken from the dead-letter topic")),
      dlq_republished_(counter(*registry_, {{"pipeline", pipeline}},
                               "outflow_dlq_republished_total",
                               "Dead letters republished to their original topic")),
      dlq_parked_(counter(*registry_, {{"pipeline", pipeline}}, "outflow_dlq_parked_total",
                          "Dead letters parked after their last attempt or without headers")),
      dlq_given_up_(counter(*registry_, {{"pipeline", pipeline}}, "outflow_dlq_given_up_total",
                            "Dead letters no topic would take, not even parked without their value")),
      dlq_consumer_failures_(counter(*registry_, {{"pipeline", pipeline}}, "outflow_dlq_consumer_failures_total",
                                     "Dead-letter consumers fenced for good and replaced")),
      dlq_due_lag_(prometheus::BuildHistogram()
                       .Name("outflow_dlq_due_lag_seconds")
                       .Help("How late each republished dead letter went out past its due time")
                       .Labels({{"pipeline", pipeline}})
                       .Register(*registry_)
                       .Add({}, due_lag_buckets())) {
  // The breaker's only edges, present from the start at 0: a series that
  // appears with its first increment hides that increment from increase().
  using breaker::State;
  for (const auto& [from, to] : {std::pair{State::Closed, State::Open},
                                 std::pair{State::Open, State::HalfOpen},
                                 std::pair{State::HalfOpen, State::Closed},
                                 std::pair{State::HalfOpen, State::Open}}) {
    breaker_transitions_.Add(
        {{"from", std::string(breaker_label(from))}, {"to", std::string(breaker_label(to))}});
  }
}

void AgentMetrics::published(std::size_t rows) { published_.Increment(static_cast<double>(rows)); }

void AgentMetrics::poisoned(std::size_t rows) { poison_.Increment(static_cast<double>(rows)); }

void AgentMetrics::publish_latency(double seconds) {
  publish_latency_.Observe(seconds > 0 ? seconds : 0);
}

void AgentMetrics::breaker_transition(breaker::State from, breaker::State to) {
  breaker_transitions_
      .Add({{"from", std::string(breaker_label(from))}, {"to", std::string(breaker_label(to))}})
      .Increment();
  breaker_state_.Set(breaker_state_value(to));
}

void AgentMetrics::backlog(std::int64_t rows, std::optional<std::int64_t> oldest_age_s) {
  backlog_.Set(static_cast<double>(rows));
  oldest_pending_.Set(static_cast<double>(oldest_age_s.value_or(0)));
}

void AgentMetrics::dlq_received(std::size_t messages) {
  dlq_received_.Increment(static_cast<double>(messages));
}

void AgentMetrics::dlq_republished(std::size_t messages) {
  dlq_republished_.Increment(static_cast<double>(messages));
}

void AgentMetrics::dlq_parked(std::size_t messages) {
  dlq_parked_.Increment(static_cast<double>(messages));
}

void AgentMetrics::dlq_given_up(std::size_t messages) {
  dlq_given_up_.Increment(static_cast<double>(messages));
}

void AgentMetrics::dlq_consumer_failed() { dlq_consumer_failures_.Increment(); }

void AgentMetrics::dlq_due_lag(double seconds) { dlq_due_lag_.Observe(seconds > 0 ? seconds : 0); }

}  // namespace outflow::agent
