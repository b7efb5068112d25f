#pragma once

// The agent's identity and the least it may do: patch its own pipeline's
// status and read the Secrets its spec names, each by resourceNames.

#include "common/pipeline/spec.h"
#include "operator/workloads/identity.h"

#include <nlohmann/json.hpp>

namespace outflow::op::workloads {

nlohmann::json agent_service_account(const PipelineIdentity& pipeline);
nlohmann::json agent_role(const PipelineIdentity& pipeline);
nlohmann::json agent_role_binding(const PipelineIdentity& pipeline);

}  // namespace outflow::op::workloads
