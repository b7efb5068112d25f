#include "agent/metrics/agent_metrics.h"

#include "operator/workloads/prometheus_rule.h"
#include "unit/operator/workloads/example_pipeline.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

using outflow::agent::AgentMetrics;
using prometheus::MetricFamily;
using prometheus::MetricType;
using State = outflow::breaker::State;

namespace {

std::vector<MetricFamily> collect(const AgentMetrics& metrics) { return metrics.registry()->Collect(); }

const MetricFamily* family(const std::vector<MetricFamily>& families, const std::string& name) {
  for (const auto& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::map<std::string, std::string> labels_of(const prometheus::ClientMetric& m) {
  std::map<std::string, std::string> labels;
  for (const auto& l : m.label) labels[l.name] = l.value;
  return labels;
}

// The value of the one series of an unlabelled gauge or counter.
double value(const AgentMetrics& metrics, const std::string& name) {
  const auto families = collect(metrics);
  const auto* f = family(families, name);
  if (f == nullptr || f->metric.size() != 1) {
    ADD_FAILURE() << name << " is missing or has more than one series";
    return -1;
  }
  return f->type == MetricType::Counter ? f->metric[0].counter.value : f->metric[0].gauge.value;
}

double transitions(const AgentMetrics& metrics, const std::string& from, const std::string& to) {
  const auto families = collect(metrics);
  const auto* f = family(families, "outflow_breaker_transitions_total");
  if (f == nullptr) {
    ADD_FAILURE() << "outflow_breaker_transitions_total is missing";
    return -1;
  }
  for (const auto& m : f->metric) {
    auto labels = labels_of(m);
    if (labels["from"] == from && labels["to"] == to) return m.counter.value;
  }
  ADD_FAILURE() << "no series from=" << from << " to=" << to;
  return -1;
}

std::string type_name(MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Histogram:
      return "histogram";
    default:
      return "other";
  }
}

}  // namespace

TEST(AgentMetrics, ExportsEveryMetricOfTheDesignUnderItsNameAndType) {
  const AgentMetrics metrics("orders");
  const auto families = collect(metrics);
  const std::map<std::string, std::string> expected = {
      {"outflow_outbox_published_total", "counter"},
      {"outflow_outbox_poison_total", "counter"},
      {"outflow_outbox_backlog", "gauge"},
      {"outflow_outbox_oldest_pending_seconds", "gauge"},
      {"outflow_outbox_publish_latency_seconds", "histogram"},
      {"outflow_breaker_state", "gauge"},
      {"outflow_breaker_transitions_total", "counter"},
      {"outflow_dlq_received_total", "counter"},
      {"outflow_dlq_republished_total", "counter"},
      {"outflow_dlq_parked_total", "counter"},
      {"outflow_dlq_given_up_total", "counter"},
      {"outflow_dlq_due_lag_seconds", "histogram"},
      {"outflow_dlq_consumer_failures_total", "counter"},
  };
  std::map<std::string, std::string> exported;
  for (const auto& f : families) exported[f.name] = type_name(f.type);
  EXPECT_EQ(exported, expected);
}

TEST(AgentMetrics, EverySeriesCarriesThePipelineLabel) {
  const AgentMetrics metrics("orders");
  for (const auto& f : collect(metrics)) {
    ASSERT_FALSE(f.metric.empty()) << f.name << " has no series before its first event";
    for (const auto& m : f.metric) {
      EXPECT_EQ(labels_of(m)["pipeline"], "orders") << f.name;
      // Prometheus adds `namespace` itself; exporting one would clash with it.
      EXPECT_EQ(labels_of(m).count("namespace"), 0u) << f.name;
    }
  }
}

TEST(AgentMetrics, EveryMetricTheDefaultAlertRulesReadIsExportedWithAFittingType) {
  // The rules the operator installs for a pipeline with a dead-letter topic
  // (every default rule). Names inside increase()/rate() must be counters;
  // names compared directly must be gauges.
  const auto identity = outflow::testing::identity("shipping");
  const auto rules = outflow::op::workloads::alert_rules(
      identity, outflow::testing::example_spec("dead-letter-alerts.yaml"));
  const AgentMetrics metrics(identity.name);
  const auto families = collect(metrics);

  const std::regex metric_name(R"(outflow_[a-z0-9_]+)");
  const std::regex counted(R"((increase|rate|irate)\(\s*(outflow_[a-z0-9_]+))");
  std::set<std::string> referenced;
  for (const auto& rule : rules) {
    if (rule.alert.rfind("Outflow", 0) != 0) continue;  // the spec's own rules
    std::set<std::string> as_counter;
    for (std::sregex_iterator it(rule.expr.begin(), rule.expr.end(), counted), end; it != end; ++it) {
      as_counter.insert((*it)[2]);
    }
    for (std::sregex_iterator it(rule.expr.begin(), rule.expr.end(), metric_name), end; it != end;
         ++it) {
      const std::string name = it->str();
      referenced.insert(name);
      const auto* f = family(families, name);
      ASSERT_NE(f, nullptr) << rule.alert << " reads " << name << ", which the agent does not export";
      EXPECT_EQ(type_name(f->type), as_counter.count(name) ? "counter" : "gauge")
          << rule.alert << ": " << rule.expr;
    }
    // The selector the rule uses names labels the agent's series have (or
    // that Prometheus adds: namespace).
    if (rule.expr.find("outflow_") != std::string::npos) {
      EXPECT_NE(rule.expr.find("pipeline=\"" + identity.name + "\""), std::string::npos) << rule.expr;
    }
  }
  EXPECT_EQ(referenced, (std::set<std::string>{"outflow_breaker_state", "outflow_outbox_backlog",
                                               "outflow_outbox_oldest_pending_seconds",
                                               "outflow_outbox_poison_total", "outflow_dlq_received_total",
                                               "outflow_dlq_parked_total", "outflow_dlq_given_up_total",
                                               "outflow_dlq_consumer_failures_total"}))
      << "the default rules changed: check the agent exports what they read";
}

TEST(AgentMetrics, TheBreakerStateGaugeIsZeroOnlyWhileClosedAsTheAlertRuleExpects) {
  // OutflowBreakerOpen fires on max(outflow_breaker_state) > 0: Open and
  // HalfOpen both mean the agent is not publishing normally.
  AgentMetrics metrics("orders");
  EXPECT_EQ(value(metrics, "outflow_breaker_state"), 0);  // the breaker starts Closed
  metrics.breaker_transition(State::Closed, State::Open);
  EXPECT_EQ(value(metrics, "outflow_breaker_state"), 1);
  metrics.breaker_transition(State::Open, State::HalfOpen);
  EXPECT_EQ(value(metrics, "outflow_breaker_state"), 2);
  metrics.breaker_transition(State::HalfOpen, State::Closed);
  EXPECT_EQ(value(metrics, "outflow_breaker_state"), 0);
}

TEST(AgentMetrics, TransitionsAreCountedByEdgeAndEveryEdgeExistsFromTheStart) {
  AgentMetrics metrics("orders");
  // Present at 0 before the first transition, so increase() sees the first one.
  EXPECT_EQ(transitions(metrics, "closed", "open"), 0);
  EXPECT_EQ(transitions(metrics, "open", "half_open"), 0);
  EXPECT_EQ(transitions(metrics, "half_open", "closed"), 0);
  EXPECT_EQ(transitions(metrics, "half_open", "open"), 0);

  metrics.breaker_transition(State::Closed, State::Open);
  metrics.breaker_transition(State::Open, State::HalfOpen);
  metrics.breaker_transition(State::HalfOpen, State::Open);
  metrics.breaker_transition(State::Open, State::HalfOpen);
  EXPECT_EQ(transitions(metrics, "closed", "open"), 1);
  EXPECT_EQ(transitions(metrics, "open", "half_open"), 2);
  EXPECT_EQ(transitions(metrics, "half_open", "open"), 1);
  EXPECT_EQ(transitions(metrics, "half_open", "closed"), 0);
}

TEST(AgentMetrics, CountersAddWhatTheyAreGiven) {
  AgentMetrics metrics("orders");
  metrics.published(500);
  metrics.published(20);
  metrics.poisoned(2);
  metrics.dlq_received(3);
  metrics.dlq_republished();
  metrics.dlq_parked(2);
  metrics.dlq_given_up();
  metrics.dlq_consumer_failed();
  EXPECT_EQ(value(metrics, "outflow_outbox_published_total"), 520);
  EXPECT_EQ(value(metrics, "outflow_outbox_poison_total"), 2);
  EXPECT_EQ(value(metrics, "outflow_dlq_received_total"), 3);
  EXPECT_EQ(value(metrics, "outflow_dlq_republished_total"), 1);
  EXPECT_EQ(value(metrics, "outflow_dlq_parked_total"), 2);
  EXPECT_EQ(value(metrics, "outflow_dlq_given_up_total"), 1);
  EXPECT_EQ(value(metrics, "outflow_dlq_consumer_failures_total"), 1);
}

TEST(AgentMetrics, BacklogGaugesShowTheLatestMeasurementAndZeroAgeWhenNothingIsPending) {
  AgentMetrics metrics("orders");
  metrics.backlog(1200, 360);
  EXPECT_EQ(value(metrics, "outflow_outbox_backlog"), 1200);
  EXPECT_EQ(value(metrics, "outflow_outbox_oldest_pending_seconds"), 360);
  metrics.backlog(0, std::nullopt);
  EXPECT_EQ(value(metrics, "outflow_outbox_backlog"), 0);
  EXPECT_EQ(value(metrics, "outflow_outbox_oldest_pending_seconds"), 0);
}

// Issue 17: one gauge held only the last lateness; the distribution is what
// an alert on "dead letters go out late" needs.
TEST(AgentMetrics, DueLagIsADistributionOverEveryRepublishedDeadLetter) {
  AgentMetrics metrics("orders");
  metrics.dlq_due_lag(0.02);
  metrics.dlq_due_lag(0.3);
  metrics.dlq_due_lag(4.5);
  metrics.dlq_due_lag(900);   // past the last bound: only +Inf
  metrics.dlq_due_lag(-1);    // clocks apart: counts as 0
  const auto families = collect(metrics);
  const auto* f = family(families, "outflow_dlq_due_lag_seconds");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->type, MetricType::Histogram);
  const auto& h = f->metric.at(0).histogram;
  EXPECT_EQ(h.sample_count, 5u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 0.02 + 0.3 + 4.5 + 900);
  std::map<double, std::uint64_t> cumulative;
  for (const auto& b : h.bucket) cumulative[b.upper_bound] = b.cumulative_count;
  EXPECT_EQ(cumulative.at(0.05), 2u);
  EXPECT_EQ(cumulative.at(0.5), 3u);
  EXPECT_EQ(cumulative.at(5), 4u);
  EXPECT_EQ(cumulative.at(600), 4u);
  EXPECT_EQ(h.bucket.back().cumulative_count, 5u);
}

TEST(AgentMetrics, PublishLatencyBucketsSpanAMillisecondToAMinute) {
  AgentMetrics metrics("orders");
  metrics.publish_latency(0.0004);
  metrics.publish_latency(0.2);
  metrics.publish_latency(45);
  metrics.publish_latency(-0.5);  // database clock ahead of ours: counts as 0
  const auto families = collect(metrics);
  const auto* f = family(families, "outflow_outbox_publish_latency_seconds");
  ASSERT_NE(f, nullptr);
  const auto& h = f->metric.at(0).histogram;
  EXPECT_EQ(h.sample_count, 4u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 0.0004 + 0.2 + 45);
  ASSERT_GE(h.bucket.size(), 3u);
  EXPECT_DOUBLE_EQ(h.bucket.front().upper_bound, 0.001);
  EXPECT_EQ(h.bucket.front().cumulative_count, 2u);
  // The last finite bound is 60 s (the final bucket is +Inf).
  EXPECT_DOUBLE_EQ(h.bucket[h.bucket.size() - 2].upper_bound, 60);
  EXPECT_EQ(h.bucket[h.bucket.size() - 2].cumulative_count, 4u);
}

TEST(AgentMetrics, TheTextExpositionNamesTheTypes) {
  // What Prometheus actually scrapes.
  const AgentMetrics metrics("orders");
  const std::string text = prometheus::TextSerializer().Serialize(collect(metrics));
  EXPECT_NE(text.find("# TYPE outflow_breaker_state gauge"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE outflow_dlq_parked_total counter"), std::string::npos) << text;
  EXPECT_NE(text.find("outflow_outbox_backlog{pipeline=\"orders\"} 0"), std::string::npos) << text;
}
