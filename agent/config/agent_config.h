#pragma once

// The agent's start-up configuration: the ConfigMap text the operator renders
// (operator/workloads/agent_config.h), the Secret files it names, and the pod's
// downward-API environment, checked together before anything connects anywhere.
// Reading files and the environment goes through injected functions so the
// checks are unit-testable without a disk or a pod.

#include "common/kafka/client_config.h"
#include "common/pipeline/spec.h"

#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace outflow::agent {

// Everything wrong with the configuration, on one line: each problem names the
// setting and what to fix, never a secret value ("files.databaseUrl: cannot
// read /var/run/...: No such file or directory; POD_NAME is not set (...)").
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

// Which EventPipeline this agent serves (the agent does not link the operator,
// so this mirrors op::workloads::PipelineIdentity rather than reusing it).
struct PipelineRef {
  std::string namespace_name;
  std::string name;
  std::string uid;
  bool operator==(const PipelineRef&) const = default;
};

// Secrets exposed as environment variables (env/valueFrom/secretKeyRef)
// instead of files; when set and non-empty they take the file's place.
inline constexpr const char* kDatabaseUrlEnv = "OUTFLOW_DATABASE_URL";
inline constexpr const char* kSaslUsernameEnv = "OUTFLOW_KAFKA_SASL_USERNAME";
inline constexpr const char* kSaslPasswordEnv = "OUTFLOW_KAFKA_SASL_PASSWORD";

struct AgentConfig {
  PipelineRef pipeline;
  pipeline::PipelineSpec spec;
  std::string database_url;  // secret: never logged, never in an error message
  // spec.kafka with the Secret files applied: TLS items as file paths (checked
  // readable at load), SASL credentials as values.
  kafka::ConnectionSettings kafka;
  std::string pod_name;       // POD_NAME (downward API: metadata.name)
  std::string pod_namespace;  // POD_NAMESPACE (downward API: metadata.namespace)
};

// Parses the config text (JSON or YAML), reads the Secret files it names and
// the downward-API variables. Throws ConfigError listing every problem found.
AgentConfig load_agent_config(const std::string& config_text, const FileReader& read_file,
                              const Environment& env);

// The same, reading the config file at config_path, the real file system and
// the process environment.
AgentConfig load_agent_config(const std::filesystem::path& config_path);

// The real file system and process environment, as the injectable functions.
std::string read_file_from_disk(const std::string& path);
std::optional<std::string> process_environment(const std::string& name);

}  // namespace outflow::agent
