#pragma once

// Everything the operator applies for one pipeline besides topics and status,
// in the order it applies them: identity and permissions before the pods that
// use them, configuration before the Deployment that mounts it.

#include "common/kube/resource.h"
#include "common/pipeline/spec.h"
#include "operator/workloads/identity.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace outflow::op::workloads {

struct DesiredObject {
  kube::ResourceKind kind;
  nlohmann::json object;
};

// `checksum` as for agent_deployment(); `rendered_config` the ConfigMap text.
// The PrometheusRule is included only when `with_alert_rules` (its CRD exists
// and the spec asks for rules).
std::vector<DesiredObject> desired_objects(const PipelineIdentity& pipeline,
                                           const pipeline::PipelineSpec& spec,
                                           const OperatorDefaults& defaults,
                                           const std::string& rendered_config,
                                           const std::string& checksum, bool with_alert_rules);

// Whether the spec wants a PrometheusRule at all.
bool wants_alert_rules(const pipeline::PipelineSpec& spec);

}  // namespace outflow::op::workloads
