#pragma once

// The agent Deployment: hardened pod (non-root, read-only root filesystem, no
// capabilities), Secrets as files, probes on the agent's health port, and a
// checksum annotation so a changed config or Secret rolls the pods.

#include "common/pipeline/spec.h"
#include "operator/workloads/identity.h"

#include <nlohmann/json.hpp>

#include <string>

namespace outflow::op::workloads {

inline constexpr const char* kChecksumAnnotation = "outflow.dev/config-checksum";

// `checksum` covers the rendered config and the referenced Secrets' data (the
// driver computes it: hashing Secret data needs I/O).
nlohmann::json agent_deployment(const PipelineIdentity& pipeline, const pipeline::PipelineSpec& spec,
                                const OperatorDefaults& defaults, const std::string& checksum);

// The agent container's resources when spec.agent.resources is empty, so no
// agent pod runs without requests and a memory limit.
nlohmann::json default_agent_resources();

// sha256 hex of the parts, each length-prefixed so ("ab","c") != ("a","bc").
std::string checksum_of(const std::vector<std::string>& parts);

}  // namespace outflow::op::workloads
