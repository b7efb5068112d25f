#pragma once

// Alert rules for one pipeline as a monitoring.coreos.com/v1 PrometheusRule:
// the defaults (breaker open, outbox backlog and age, dead-letter growth,
// parked messages, agent down) plus the spec's own rules.

#include "common/pipeline/spec.h"
#include "operator/workloads/identity.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace outflow::op::workloads {

// Where each default alert's runbook_url points: the README's troubleshooting
// entry, whose heading is the alert's name.
inline constexpr const char* kRunbookBase = "https://github.com/outflow-dev/outflow/blob/main/README.md";

// kRunbookBase with the anchor GitHub gives the heading `alert`.
std::string runbook_url(const std::string& alert);

// The rules themselves, in the order they are installed.
std::vector<pipeline::AlertRule> alert_rules(const PipelineIdentity& pipeline,
                                             const pipeline::PipelineSpec& spec);

nlohmann::json agent_prometheus_rule(const PipelineIdentity& pipeline, const pipeline::PipelineSpec& spec);

}  // namespace outflow::op::workloads
