#include "operator/workloads/prometheus_rule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace outflow::op::workloads {
namespace {

using pipeline::AlertRule;

// Agents export their metrics with a `pipeline` label; Prometheus adds
// `namespace` (and `pod`) from service discovery. Both together name one
// pipeline, and every default rule keeps both on its alert, so Alertmanager
// can route by namespace.
std::string selector(const PipelineIdentity& p) {
  return fmt::format("namespace=\"{}\",pipeline=\"{}\"", p.namespace_name, p.name);
}

constexpr const char* kBy = "by (namespace, pipeline)";

std::vector<AlertRule> default_rules(const PipelineIdentity& p, const pipeline::PipelineSpec& spec) {
  const auto sel = selector(p);
  const auto where = fmt::format("pipeline {}/{}", p.namespace_name, p.name);
  std::vector<AlertRule> rules = {
      // Not Closed (0) rather than Open (1): through a long outage the breaker
      // cycles Open -> HalfOpen -> Open, and `== 1` would keep resetting `for`
      // (or miss a pod in HalfOpen next to one that is Open). 5m, not less: a
      // broker's rolling restart or a leader election opens a breaker for
      // seconds and it closes by itself; OutflowOutboxStale covers the delay.
      {"OutflowBreakerOpen", fmt::format("max {} (outflow_breaker_state{{{}}}) > 0", kBy, sel), "5m", "critical",
       fmt::format("Kafka circuit breaker open for {}", where),
       "An agent of this pipeline has stopped publishing for 5 minutes because Kafka calls keep "
       "failing; the outbox grows meanwhile (nothing is lost). Check lastError of the agents in "
       "the pipeline's status and the brokers' health.",
       {}},
      {"OutflowOutboxBacklogHigh",
       fmt::format("sum {} (outflow_outbox_backlog{{{}}}) > {}", kBy, sel, 10 * spec.outbox.batch_size), "10m",
       "warning", fmt::format("Outbox backlog high for {}", where),
       fmt::format("{{{{ $value }}}} outbox rows are pending, more than ten batches ({}), and have been for "
                   "10 minutes: the agents publish slower than the application writes.",
                   10 * spec.outbox.batch_size),
       {}},
      {"OutflowOutboxStale", fmt::format("max {} (outflow_outbox_oldest_pending_seconds{{{}}}) > 300", kBy, sel),
       "5m", "warning", fmt::format("Outbox events late to Kafka for {}", where),
       "The oldest pending outbox row is {{ $value | humanizeDuration }} old (over 5 minutes for "
       "5 minutes): events reach Kafka late.",
       {}},
      // A poison row holds back every later row of its key until a person
      // fixes or deletes it, so one is worth a look, not a page.
      {"OutflowOutboxPoisonRows", fmt::format("sum {} (increase(outflow_outbox_poison_total{{{}}}[1h])) > 0", kBy, sel),
       "", "warning", fmt::format("Outbox rows set aside as poison for {}", where),
       "{{ $value | humanize }} outbox rows were set aside in the last hour (their last_error says "
       "why); later rows of the same key wait until each is fixed or deleted.",
       {}},
  };
  if (spec.dead_letter) {
    rules.push_back({"OutflowDeadLettersGrowing",
                     fmt::format("sum {} (increase(outflow_dlq_received_total{{{}}}[15m])) > 0", kBy, sel), "15m",
                     "warning", fmt::format("Dead letters keep arriving for {}", where),
                     "Consumers have kept sending messages to the dead-letter topic for 15 minutes.", {}});
    rules.push_back({"OutflowMessagesParked",
                     fmt::format("sum {} (increase(outflow_dlq_parked_total{{{}}}[1h])) > 0", kBy, sel), "", "warning",
                     fmt::format("Messages parked for {}", where),
                     "{{ $value | humanize }} messages exhausted their retries and were parked in the last hour; "
                     "inspect them with `outflow-agent parked list`.",
                     {}});
    // Not even a copy without its value could be parked: the dead letter is
    // left in its topic until retention removes it.
    rules.push_back({"OutflowDeadLettersGivenUp",
                     fmt::format("sum {} (increase(outflow_dlq_given_up_total{{{}}}[1h])) > 0", kBy, sel), "",
                     "critical", fmt::format("Dead letters given up for {}", where),
                     "{{ $value | humanize }} dead letters could not be republished nor parked in the last hour; "
                     "each is logged as an error naming its topic, partition and offset, and stays there only "
                     "until retention removes it.",
                     {}});
    // One fence (a commit held through a broker outage) heals itself; the
    // replacement back-off still lets three through in 15 minutes when two
    // processes share one group.instance.id and fence each other for ever.
    rules.push_back({"OutflowDeadLetterConsumerFenced",
                     fmt::format("sum {} (increase(outflow_dlq_consumer_failures_total{{{}}}[15m])) >= 3", kBy, sel),
                     "", "warning", fmt::format("Dead-letter consumer fenced again and again for {}", where),
                     "Dead-letter consumers were fenced {{ $value | humanize }} times in 15 minutes and replaced "
                     "each time; two processes probably run under one group.instance.id (the agent's last error "
                     "names it). Dead letters wait while it repeats: give every agent its own instance id.",
                     {}});
  }
  if (spec.agent.replicas > 0) {
    // By pod name (<agent>-<replica set hash>-<suffix>): every way of scraping
    // the agents (ServiceMonitor, PodMonitor, the prometheus.io annotations)
    // labels `up` with the pod, not all of them with a service.
    rules.push_back({"OutflowAgentDown",
                     fmt::format("(count(up{{namespace=\"{}\",pod=~\"{}-[a-z0-9]+-[a-z0-9]+\"}} == 1) or vector(0)) < {}",
                                 p.namespace_name, agent_name(p), spec.agent.replicas),
                     "5m", "critical", fmt::format("Agents missing for {}", where),
                     fmt::format("{{{{ $value }}}} of {} agent pods (spec.agent.replicas) have been up for the last "
                                 "5 minutes.",
                                 spec.agent.replicas),
                     {}});
  }
  return rules;
}

// GitHub's anchor for a heading: lower case, spaces to dashes, punctuation dropped.
std::string anchor(const std::string& heading) {
  std::string out;
  for (const char c : heading) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_') {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (c == ' ') {
      out.push_back('-');
    }
  }
  return out;
}

nlohmann::json to_rule(const AlertRule& r, const PipelineIdentity& p, bool is_default) {
  nlohmann::json labels = {{"severity", r.severity}, {"outflow_pipeline", p.name}};
  for (const auto& [k, v] : r.labels) labels[k] = v;
  nlohmann::json rule = {{"alert", r.alert}, {"expr", r.expr}, {"labels", labels}};
  if (!r.for_duration.empty()) rule["for"] = r.for_duration;
  nlohmann::json annotations = nlohmann::json::object();
  if (!r.summary.empty()) annotations["summary"] = r.summary;
  if (!r.description.empty()) annotations["description"] = r.description;
  // A rule of the spec's own, even one named like a default, means what its
  // author says: only the defaults point at the README's entry.
  if (is_default) annotations["runbook_url"] = runbook_url(r.alert);
  if (!annotations.empty()) rule["annotations"] = annotations;
  return rule;
}

}  // namespace

std::string runbook_url(const std::string& alert) {
  return std::string(kRunbookBase) + "#" + anchor(alert);
}

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
  const auto defaults = spec.alerts.defaults ? default_rules(pipeline, spec) : std::vector<AlertRule>{};
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& r : alert_rules(pipeline, spec)) {
    const bool is_default = std::find(defaults.begin(), defaults.end(), r) != defaults.end();
    rules.push_back(to_rule(r, pipeline, is_default));
  }
  return {{"apiVersion", "monitoring.coreos.com/v1"},
          {"kind", "PrometheusRule"},
          {"metadata", metadata},
          {"spec", {{"groups", nlohmann::json::array({{{"name", "outflow." + pipeline.namespace_name + "." + pipeline.name},
                                                        {"rules", rules}}})}}}};
}

}  // namespace outflow::op::workloads
