#pragma once

// The agent's configuration file, `kind: AgentConfig` (README, "Running the
// agent on its own"): written by hand, or rendered by the operator from an
// EventPipeline (operator/workloads/agent_config.h) through this same loader.
// Its kafka, topics, outbox, deadLetter and circuitBreaker sections follow the
// EventPipeline spec's schema (common/pipeline/spec.h parses them), with
// Secrets given as files or environment variables. Reading files and the
// environment goes through injected functions so the checks are unit-testable
// without a disk or a pod.

#include "common/kafka/client_config.h"
#include "common/pipeline/spec.h"

#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace outflow::agent {

inline constexpr const char* kAgentConfigApiVersion = "outflow.dev/v1alpha1";
inline constexpr const char* kAgentConfigKind = "AgentConfig";

// Everything wrong with the configuration, on one line: each problem names the
// field and what to fix, never a secret value ("outbox.databaseUrl.file:
// cannot read /var/run/...: No such file or directory; kafka.foo: unknown field ...").
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Why a file could not be read (e.g. "No such file or directory"); thrown by a
// FileReader. Its message is only the reason: the loader adds setting and path.
class FileReadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The whole content of a file, or FileReadError.
using FileReader = std::function<std::string(const std::string& path)>;
// The value of an environment variable, nullopt when unset.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;

// A pipeline's namespace and name (uid: only where known). The agent does not
// link the operator, so this mirrors op::workloads::PipelineIdentity.
struct PipelineRef {
  std::string namespace_name;
  std::string name;
  std::string uid;
  bool operator==(const PipelineRef&) const = default;
};

// Fixed environment variables that, when set and non-empty, take the place of
// whatever source the config names (kept from before `{env: NAME}` existed).
inline constexpr const char* kDatabaseUrlEnv = "OUTFLOW_DATABASE_URL";
inline constexpr const char* kSaslUsernameEnv = "OUTFLOW_KAFKA_SASL_USERNAME";
inline constexpr const char* kSaslPasswordEnv = "OUTFLOW_KAFKA_SASL_PASSWORD";

// The system's host name: the agent's identity when POD_NAME is unset.
using HostName = std::function<std::string()>;

struct AgentConfig {
  // metadata.namespace ("default" when left out) and metadata.name: they name
  // the dead-letter consumer group (outflow-<namespace>-<name>-replayer), the
  // metrics' pipeline label and the log lines.
  PipelineRef pipeline;
  // status.eventPipeline: the EventPipeline whose status.agents this agent
  // writes its entry into. Without it the agent never talks to an API server.
  std::optional<PipelineRef> status;
  // kafka, topics, deadLetter, outbox, circuitBreaker. A topic whose layout
  // the file leaves out has partitions and replication_factor 0.
  pipeline::PipelineSpec spec;
  std::string database_url;  // secret: never logged, never in an error message
  // spec.kafka with the Secrets applied: TLS items as file paths (checked
  // readable at load), SASL credentials as values.
  kafka::ConnectionSettings kafka;
  std::string pod_name;       // POD_NAME (downward API), else the host name
  std::string pod_namespace;  // POD_NAMESPACE, empty when unset
};

// Parses the config text (JSON or YAML), reads the Secret files and
// variables it names and the pod's identity. Throws ConfigError listing every
// problem found.
AgentConfig load_agent_config(const std::string& config_text, const FileReader& read_file,
                              const Environment& env, const HostName& host_name);

// The same, reading the config file at config_path, the real file system and
// the process environment.
AgentConfig load_agent_config(const std::filesystem::path& config_path);

// The real file system and process environment, as the injectable functions.
std::string read_file_from_disk(const std::string& path);
std::optional<std::string> process_environment(const std::string& name);
std::string system_host_name();

}  // namespace outflow::agent
