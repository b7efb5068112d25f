#pragma once

// The agent's configuration, `kind: AgentConfig` (agent/config/agent_config.h
// loads it; README "Running the agent on its own" documents it): the parts of
// the pipeline's spec the agent uses, where its Secrets are mounted, and the
// EventPipeline to report into. Secret values never enter the ConfigMap; the
// kubelet mounts them as files.

#include "common/pipeline/spec.h"
#include "operator/workloads/identity.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace outflow::op::workloads {

inline constexpr const char* kConfigDir = "/etc/outflow";
inline constexpr const char* kConfigFile = "agent.yaml";
inline constexpr const char* kSecretsDir = "/var/run/outflow/secrets";

// One Secret volume of the agent pod: which keys of which Secret appear as
// which files under mount_path.
struct SecretMount {
  std::string volume;
  std::string secret;
  std::vector<std::pair<std::string, std::string>> items;  // key -> file name
  std::string mount_path;
  bool operator==(const SecretMount&) const = default;
};

std::vector<SecretMount> secret_mounts(const pipeline::PipelineSpec& spec);

// Names of every Secret the spec references, sorted and unique (for RBAC
// resourceNames and the roll-out checksum).
std::vector<std::string> referenced_secrets(const pipeline::PipelineSpec& spec);

// Only what the agent reads, so that a change it does not use (partitions,
// topic configs, agent.replicas, alerts) renders the same file and rolls no pod.
nlohmann::json agent_config(const PipelineIdentity& pipeline, const pipeline::PipelineSpec& spec);

// The ConfigMap text. JSON is valid YAML and, unlike a YAML emitter, never
// turns the string "2" into the number 2.
std::string render_agent_config(const nlohmann::json& config);

nlohmann::json agent_config_map(const PipelineIdentity& pipeline, const std::string& rendered);

}  // namespace outflow::op::workloads
