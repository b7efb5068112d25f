#pragma once

// The agents' metrics Service, which Prometheus (or a ServiceMonitor) scrapes.

#include "operator/workloads/identity.h"

#include <nlohmann/json.hpp>

namespace outflow::op::workloads {

nlohmann::json agent_metrics_service(const PipelineIdentity& pipeline, const OperatorDefaults& defaults);

}  // namespace outflow::op::workloads
