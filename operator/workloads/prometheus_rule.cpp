#include "operator/workloads/prometheus_rule.h"

#include <fmt/format.h>

namespace outflow::op::workloads {
namespace {

using pipeline::AlertRule;

// Agents export their metrics with a `pipeline` label; Prometheus adds
// `namespace` from service discovery. Both together name one pipeline.
std::string selector(const PipelineIdentity& p) {
  return fmt::format("namespace=\"{}\",pipeline=\"{}\"", p.namespace_name, p.name);
}

std::vector<AlertRule> default_rules(const PipelineIdentity& p, const pipeline::PipelineSpec& spec) {
  const auto sel = selector(p);
  const auto where = fmt::format("pipeline {}/{}", p.namespace_name, p.name);
  std::vector<AlertRule> rules = {
      // Not Closed (0) rather than Open (1): through a long outage the breaker
      // cycles Open -> HalfOpen -> Open, and `== 1` would keep resetting `for`
      // (or miss a pod in HalfOpen next to one that is Open).
      {"OutflowBreakerOpen", fmt::format("max(outflow_breaker_state{{{}}}) > 0", sel), "1m", "critical",
       fmt::format("Kafka circuit breaker open for {}", where),
       "An agent stopped publishing because Kafka calls keep failing; the outbox is growing. Check "
       "the agent's lastError in the pipeline status and the brokers' health.",
       {}},
      {"OutflowOutboxBacklogHigh", fmt::format("sum(outflow_outbox_backlog{{{}}}) > {}", sel, 10 * spec.outbox.batch_size),
       "10m", "warning", fmt::format("Outbox backlog high for {}", where),
       "More than ten batches of outbox rows have been waiting for 10 minutes.", {}},
      {"OutflowOutboxStale", fmt::format("max(outflow_outbox_oldest_pending_seconds{{{}}}) > 300", sel), "5m",
       "warning", fmt::format("Outbox events older than 5 minutes for {}", where),
       "The oldest pending outbox row is over 5 minutes old: events are late to Kafka.", {}},
  };
  if (spec.dead_letter) {
    rules.push_back({"OutflowDeadLettersGrowing",
                     fmt::format("sum(increase(outflow_dlq_received_total{{{}}}[15m])) > 0", sel), "15m",
                     "warning", fmt::format("Dead letters keep arriving for {}", where),
                     "Consumers have been sending messages to the dead-letter topic for 15 minutes.", {}});
    rules.push_back({"OutflowMessagesParked",
                     fmt::format("sum(increase(outflow_dlq_parked_total{{{}}}[1h])) > 0", sel), "", "warning",
                     fmt::format("Messages parked for {}", where),
                     "Messages exhausted their retries and were parked; inspect them with "
                     "`outflow-agent parked list`.",
                     {}});
  }
  if (spec.agent.replicas > 0) {
    rules.push_back({"OutflowAgentDown",
                     fmt::format("(count(up{{namespace=\"{}\",service=\"{}\"}} == 1) or vector(0)) < {}",
                                 p.namespace_name, agent_name(p), spec.agent.replicas),
                     "5m", "critical", fmt::format("Agents missing for {}", where),
                     "Fewer agent pods are up than spec.agent.replicas.", {}});
  }
  return rules;
}

nlohmann::json to_rule(const AlertRule& r, const PipelineIdentity& p) {
  nlohmann::json labels = {{"severity", r.severity}, {"outflow_pipeline", p.name}};
  for (const auto& [k, v] : r.labels) labels[k] = v;
  nlohmann::json rule = {{"alert", r.alert}, {"expr", r.expr}, {"labels", labels}};
  if (!r.for_duration.empty()) rule["for"] = r.for_duration;
  nlohmann::json annotations = nlohmann::json::object();
  if (!r.summary.empty()) annotations["summary"] = r.summary;
  if (!r.description.empty()) annotations["description"] = r.description;
  if (!annotations.empty()) rule["annotations"] = annotations;
  return rule;
}

}  // namespace

std::vector<AlertRule> alert_rules(const PipelineIdentity& pipeline, const pipeline::PipelineSpec& spec) {
  std::vector<AlertRule> rules;
  if (spec.alerts.defaults) rules = default_rules(pipeline, spec);
  // A spec rule with a default's name replaces it, so teams can retune one.
  for (const auto& own : spec.alerts.rules) {
    std::erase_if(rules, [&own](const AlertRule& r) { return r.alert == own.alert; });
    rules.push_back(own);
  }
  return rules;
}

nlohmann::json agent_prometheus_rule(const PipelineIdentity& pipeline, const pipeline::PipelineSpec& spec) {
  auto metadata = object_metadata(pipeline, agent_name(pipeline));
  for (const auto& [k, v] : spec.alerts.labels) metadata["labels"][k] = v;
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& r : alert_rules(pipeline, spec)) rules.push_back(to_rule(r, pipeline));
  return {{"apiVersion", "monitoring.coreos.com/v1"},
          {"kind", "PrometheusRule"},
          {"metadata", metadata},
          {"spec", {{"groups", nlohmann::json::array({{{"name", "outflow." + pipeline.namespace_name + "." + pipeline.name},
                                                        {"rules", rules}}})}}}};
}

}  // namespace outflow::op::workloads
