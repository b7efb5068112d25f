#include "agent/config/agent_config.h"

#include "agent/postgres/url_safety.h"
#include "common/kube/yaml_json.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace outflow::agent {

namespace {

using nlohmann::json;
using Problems = std::vector<std::string>;

// Secret files written by hand (`echo secret > file`, `kubectl create secret
// --from-file`) usually end in a newline that is not part of the value; a
// password with that newline would fail authentication with no visible cause.
// Only one is removed so a value that really ends in whitespace survives.
std::string trim_one_newline(std::string text) {
  if (!text.empty() && text.back() == '\n') {
    text.pop_back();
    if (!text.empty() && text.back() == '\r') text.pop_back();
  }
  return text;
}

std::string join(const Problems& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out;
}

// Parse errors leave nothing else to check, so they throw at once.
json parse_document(const std::string& text) {
  std::vector<json> documents;
  try {
    documents = kube::parse_yaml_documents(text);
  } catch (const kube::YamlError& e) {
    throw ConfigError(fmt::format("config: not valid JSON or YAML: {}", e.what()));
  }
  if (documents.empty()) {
    throw ConfigError("config: empty (expected the document outflow-operator renders: pipeline, spec, files)");
  }
  if (documents.size() > 1) {
    throw ConfigError(fmt::format("config: holds {} documents, expected one", documents.size()));
  }
  if (!documents[0].is_object()) {
    throw ConfigError("config: must be a mapping with pipeline, spec and files");
  }
  return std::move(documents[0]);
}

// A top-level section, or nullptr (with a problem) when it is missing or no mapping.
const json* section(const json& root, const char* name, Problems& problems) {
  const auto it = root.find(name);
  if (it == root.end() || it->is_null()) {
    problems.push_back(fmt::format("{}: required (render the config with outflow-operator)", name));
    return nullptr;
  }
  if (!it->is_object()) {
    problems.push_back(fmt::format("{}: must be a mapping", name));
    return nullptr;
  }
  return &*it;
}

std::string required_string(const json* object, const char* section_name, const char* key, Problems& problems) {
  if (object == nullptr) return {};
  const auto it = object->find(key);
  if (it == object->end() || it->is_null()) {
    problems.push_back(fmt::format("{}.{}: required", section_name, key));
    return {};
  }
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    problems.push_back(fmt::format("{}.{}: must be a non-empty string", section_name, key));
    return {};
  }
  return it->get<std::string>();
}

// Reads the Secret files named under `files`. Each accessor records a problem
// and returns nullopt instead of throwing, so one start-up attempt reports
// every missing mount rather than one per crash-loop iteration.
class SecretFiles {
 public:
  SecretFiles(const json* files, const FileReader& read_file, const Environment& env, Problems& problems)
      : files_(files), read_file_(read_file), env_(env), problems_(problems) {}

  // The file's content minus one trailing newline; `why` says which spec
  // setting needs the file. A non-empty environment variable `env_name`
  // (a Secret exposed with env/valueFrom instead of a volume) takes its place.
  std::optional<std::string> value(const char* key, const char* env_name, std::string_view why) {
    if (auto from_env = env_(env_name); from_env && !from_env->empty()) return from_env;
    auto file = read(key, why);
    if (!file) return std::nullopt;
    return trim_one_newline(std::move(file->content));
  }

  // The file's path after checking it can be read now: librdkafka would
  // otherwise fail later, when connecting, with an SSL message naming no setting.
  std::optional<std::string> readable_path(const char* key, std::string_view why) {
    auto file = read(key, why);
    if (!file) return std::nullopt;
    return std::move(file->path);
  }

 private:
  struct File {
    std::string path;
    std::string content;
  };

  std::optional<std::string> path(const char* key, std::string_view why) {
    if (files_ == nullptr) return std::nullopt;  // already reported: files is missing
    const auto it = files_->find(key);
    if (it == files_->end() || it->is_null()) {
      problems_.push_back(
          fmt::format("files.{}: required because {} (render the config with outflow-operator)", key, why));
      return std::nullopt;
    }
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      problems_.push_back(fmt::format("files.{}: must be the path of the mounted Secret file", key));
      return std::nullopt;
    }
    return it->get<std::string>();
  }

  std::optional<File> read(const char* key, std::string_view why) {
    const auto file = path(key, why);
    if (!file) return std::nullopt;
    std::string content;
    try {
      content = read_file_(*file);
    } catch (const std::exception& e) {
      // The reader's message is a reason (strerror), never file content.
      problems_.push_back(fmt::format("files.{}: cannot read {}: {}", key, *file, e.what()));
      return std::nullopt;
    }
    if (trim_one_newline(content).empty()) {
      problems_.push_back(fmt::format("files.{}: {} is empty (check the Secret's key)", key, *file));
      return std::nullopt;
    }
    return File{*file, std::move(content)};
  }

  const json* files_;
  const FileReader& read_file_;
  const Environment& env_;
  Problems& problems_;
};

std::string downward_api(const Environment& env, const char* name, const char* field, Problems& problems) {
  const auto value = env(name);
  if (!value) {
    problems.push_back(fmt::format("{} is not set (set it from the downward API: fieldRef {})", name, field));
    return {};
  }
  if (value->empty()) {
    problems.push_back(fmt::format("{} is empty (set it from the downward API: fieldRef {})", name, field));
    return {};
  }
  return *value;
}

std::optional<pipeline::PipelineSpec> parse_pipeline_spec(const json* spec, Problems& problems) {
  if (spec == nullptr) return std::nullopt;
  try {
    return pipeline::parse_spec(*spec);
  } catch (const pipeline::SpecError& e) {
    problems.insert(problems.end(), e.problems().begin(), e.problems().end());
  } catch (const json::exception& e) {
    // parse_spec checks types itself; this only guards a gap in those checks
    // with a message that still names the section.
    problems.push_back(fmt::format("spec: {}", e.what()));
  }
  return std::nullopt;
}

kafka::ConnectionSettings connection_settings(const pipeline::KafkaSpec& spec, SecretFiles& files) {
  kafka::ConnectionSettings out;
  out.bootstrap_servers = spec.bootstrap_servers;
  out.connect_timeout_ms = spec.connect_timeout_ms;
  out.request_timeout_ms = spec.request_timeout_ms;
  // tls.enabled=false keeps the section but means plaintext; the operator may
  // still mount the CA then, and it is ignored.
  if (spec.tls && spec.tls->enabled) {
    kafka::TlsSettings tls{};
    if (spec.tls->ca) {
      tls.ca_file = files.readable_path("kafkaCa", "spec.kafka.tls.caSecretRef is set").value_or("");
    }
    if (spec.tls->client_cert_secret) {
      constexpr std::string_view why = "spec.kafka.tls.clientCertSecretRef is set";
      tls.cert_file = files.readable_path("kafkaClientCert", why).value_or("");
      tls.key_file = files.readable_path("kafkaClientKey", why).value_or("");
    }
    out.tls = std::move(tls);
  }
  if (spec.sasl) {
    constexpr std::string_view why = "spec.kafka.sasl is set";
    kafka::SaslSettings sasl;
    sasl.mechanism = spec.sasl->mechanism;
    sasl.username = files.value("saslUsername", kSaslUsernameEnv, why).value_or("");
    sasl.password = files.value("saslPassword", kSaslPasswordEnv, why).value_or("");
    out.sasl = std::move(sasl);
  }
  return out;
}

// libpq would refuse the URL at every connect attempt, with a message that
// quotes it; refusing to start names where it came from instead.
void check_database_url(const std::string& url, const pipeline::SecretKeyRef* secret, const Environment& env,
                        Problems& problems) {
  if (url.empty()) return;  // already reported as missing or empty
  const auto problem = pg::url_problem(url);
  if (!problem) return;
  if (const auto from_env = env(kDatabaseUrlEnv); from_env && !from_env->empty()) {
    problems.push_back(fmt::format("{}: the database URL is not valid: it {}", kDatabaseUrlEnv, *problem));
  } else if (secret != nullptr) {
    problems.push_back(fmt::format(
        "files.databaseUrl: the database URL in spec.outbox.databaseSecretRef (Secret \"{}\", key \"{}\") is "
        "not valid: it {}",
        secret->name, secret->key, *problem));
  } else {
    problems.push_back(fmt::format("files.databaseUrl: the database URL is not valid: it {}", *problem));
  }
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

std::string errno_reason(int error) { return std::error_code(error, std::generic_category()).message(); }

}  // namespace

AgentConfig load_agent_config(const std::string& config_text, const FileReader& read_file, const Environment& env) {
  const json root = parse_document(config_text);
  Problems problems;
  AgentConfig out;

  const json* pipeline_section = section(root, "pipeline", problems);
  out.pipeline.namespace_name = required_string(pipeline_section, "pipeline", "namespace", problems);
  out.pipeline.name = required_string(pipeline_section, "pipeline", "name", problems);
  out.pipeline.uid = required_string(pipeline_section, "pipeline", "uid", problems);

  const auto spec = parse_pipeline_spec(section(root, "spec", problems), problems);

  SecretFiles files(section(root, "files", problems), read_file, env, problems);
  // Read even when the spec is invalid: the database mount does not depend on
  // it, and reporting it now saves another restart.
  out.database_url =
      files.value("databaseUrl", kDatabaseUrlEnv, "spec.outbox.databaseSecretRef is set").value_or("");
  check_database_url(out.database_url, spec ? &spec->outbox.database : nullptr, env, problems);
  if (spec) {
    out.spec = *spec;
    out.kafka = connection_settings(spec->kafka, files);
  }

  out.pod_name = downward_api(env, "POD_NAME", "metadata.name", problems);
  out.pod_namespace = downward_api(env, "POD_NAMESPACE", "metadata.namespace", problems);
  // The agent's Role, Secrets and status entry all live in the pipeline's
  // namespace; a pod elsewhere (a copied manifest, a stale ConfigMap) would
  // only collect 403s, so say so now.
  if (!out.pod_namespace.empty() && !out.pipeline.namespace_name.empty() &&
      out.pod_namespace != out.pipeline.namespace_name) {
    problems.push_back(fmt::format(
        "POD_NAMESPACE: the pod runs in \"{}\" but serves a pipeline in \"{}\" (run the agent in its "
        "pipeline's namespace)",
        out.pod_namespace, out.pipeline.namespace_name));
  }

  if (!problems.empty()) throw ConfigError(join(problems));
  return out;
}

AgentConfig load_agent_config(const std::filesystem::path& config_path) {
  std::string text;
  try {
    text = read_file_from_disk(config_path.string());
  } catch (const FileReadError& e) {
    throw ConfigError(fmt::format("--config: cannot read {}: {}", config_path.string(), e.what()));
  }
  return load_agent_config(text, read_file_from_disk, process_environment);
}

std::string read_file_from_disk(const std::string& path) {
  errno = 0;
  const std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw FileReadError(errno_reason(errno));
  std::string content;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) content.append(buffer, n);
  // A directory opens fine on Linux and fails here with EISDIR.
  if (std::ferror(file.get())) throw FileReadError(errno_reason(errno));
  return content;
}

std::optional<std::string> process_environment(const std::string& name) {
  // The agent never calls setenv, so getenv cannot race with a writer.
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

}  // namespace outflow::agent
