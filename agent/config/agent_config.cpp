#include "agent/config/agent_config.h"

#include "agent/postgres/url_safety.h"
#include "common/kube/yaml_json.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
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
    throw ConfigError(fmt::format("config: empty (expected apiVersion: {}, kind: {})", kAgentConfigApiVersion,
                                  kAgentConfigKind));
  }
  if (documents.size() > 1) {
    throw ConfigError(fmt::format("config: holds {} documents, expected one", documents.size()));
  }
  if (!documents[0].is_object()) {
    throw ConfigError(fmt::format("config: must be a mapping (apiVersion: {}, kind: {}, metadata, kafka, ...)",
                                  kAgentConfigApiVersion, kAgentConfigKind));
  }
  return std::move(documents[0]);
}

const json* field(const json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return (it == object.end() || it->is_null()) ? nullptr : &*it;
}

const json* at(const json& root, std::initializer_list<const char*> path) {
  const json* node = &root;
  for (const char* key : path) {
    node = field(*node, key);
    if (node == nullptr) return nullptr;
  }
  return node;
}

void refuse_unknown(const json& object, const std::string& path, std::initializer_list<std::string_view> known,
                    Problems& problems) {
  if (!object.is_object()) return;
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string expected;
    for (const auto k : known) expected += fmt::format("{}{}", expected.empty() ? "" : ", ", k);
    problems.push_back(fmt::format("{}{}: unknown field (expected one of: {})", path.empty() ? "" : path + ".",
                                   key, expected));
  }
}

// A non-empty string at `object.key`, or `fallback` when absent (a problem
// when there is none).
std::string string_field(const json* object, const std::string& path, const char* key,
                         std::optional<std::string> fallback, Problems& problems) {
  const json* value = object ? field(*object, key) : nullptr;
  const auto where = path.empty() ? std::string(key) : path + "." + key;
  if (value == nullptr) {
    if (!fallback) problems.push_back(fmt::format("{}: is required", where));
    return fallback.value_or("");
  }
  if (!value->is_string() || value->get_ref<const std::string&>().empty()) {
    problems.push_back(fmt::format("{}: must be a non-empty string", where));
    return fallback.value_or("");
  }
  return value->get<std::string>();
}

// apiVersion, kind, metadata and status: the parts that are not the
// EventPipeline's sections.
void check_header(const json& root, Problems& problems) {
  if (root.contains("pipeline") && root.contains("spec") && !root.contains("kind")) {
    // The format before AgentConfig, from an operator older than this agent.
    problems.push_back(fmt::format("config: this is the old rendering (pipeline, spec, files); upgrade the "
                                   "operator so it renders kind: {}",
                                   kAgentConfigKind));
    return;
  }
  refuse_unknown(root, "",
                 {"apiVersion", "kind", "metadata", "kafka", "topics", "outbox", "deadLetter", "circuitBreaker",
                  "status"},
                 problems);
  const auto api_version = string_field(&root, "", "apiVersion", std::nullopt, problems);
  if (!api_version.empty() && api_version != kAgentConfigApiVersion) {
    problems.push_back(fmt::format("apiVersion: \"{}\" is not supported (use {})", api_version,
                                   kAgentConfigApiVersion));
  }
  const auto kind = string_field(&root, "", "kind", std::nullopt, problems);
  if (!kind.empty() && kind != kAgentConfigKind) {
    problems.push_back(fmt::format("kind: \"{}\" is not supported (use {})", kind, kAgentConfigKind));
  }
}

PipelineRef metadata(const json& root, Problems& problems) {
  const json* m = field(root, "metadata");
  if (m == nullptr) {
    problems.push_back("metadata.name: is required (it names the dead-letter consumer group and the metrics)");
    return {};
  }
  if (!m->is_object()) {
    problems.push_back("metadata: must be a mapping with name and namespace");
    return {};
  }
  refuse_unknown(*m, "metadata", {"name", "namespace"}, problems);
  PipelineRef ref;
  ref.name = string_field(m, "metadata", "name", std::nullopt, problems);
  ref.namespace_name = string_field(m, "metadata", "namespace", std::string("default"), problems);
  return ref;
}

std::optional<PipelineRef> status_target(const json& root, const PipelineRef& self, Problems& problems) {
  const json* s = field(root, "status");
  if (s == nullptr) return std::nullopt;
  if (!s->is_object()) {
    problems.push_back("status: must be a mapping with eventPipeline");
    return std::nullopt;
  }
  refuse_unknown(*s, "status", {"eventPipeline"}, problems);
  const json* p = field(*s, "eventPipeline");
  if (p == nullptr || !p->is_object()) {
    problems.push_back("status.eventPipeline: required, a mapping with name (and namespace)");
    return std::nullopt;
  }
  refuse_unknown(*p, "status.eventPipeline", {"name", "namespace", "uid"}, problems);
  PipelineRef ref;
  ref.name = string_field(p, "status.eventPipeline", "name", std::nullopt, problems);
  ref.namespace_name = string_field(p, "status.eventPipeline", "namespace", self.namespace_name, problems);
  ref.uid = string_field(p, "status.eventPipeline", "uid", std::string(), problems);
  return ref;
}

// Reads Secrets: a `{file: PATH}` or `{env: NAME}` source, or a file path.
// Each accessor records a problem and returns nullopt instead of throwing, so
// one start-up attempt reports every missing mount rather than one per
// crash-loop iteration.
class Secrets {
 public:
  Secrets(const FileReader& read_file, const Environment& env, Problems& problems)
      : read_file_(read_file), env_(env), problems_(problems) {}

  // The value of the source at `path` (e.g. "outbox.databaseUrl"), minus one
  // trailing newline of a file. A non-empty `override_env` takes its place.
  std::optional<std::string> value(const json* source, const std::string& path, const char* override_env) {
    if (auto from_env = env_(override_env); from_env && !from_env->empty()) return from_env;
    if (source == nullptr) {
      problems_.push_back(fmt::format("{}: is required: {{file: <path>}} or {{env: <VARIABLE>}}", path));
      return std::nullopt;
    }
    if (!source->is_object()) {
      problems_.push_back(fmt::format("{}: must be {{file: <path>}} or {{env: <VARIABLE>}}", path));
      return std::nullopt;
    }
    refuse_unknown(*source, path, {"file", "env"}, problems_);
    const bool has_file = field(*source, "file") != nullptr;
    const bool has_env = field(*source, "env") != nullptr;
    if (has_file == has_env) {
      problems_.push_back(fmt::format("{}: set exactly one of file and env", path));
      return std::nullopt;
    }
    if (has_env) {
      const auto name = string_field(source, path, "env", std::string(), problems_);
      if (name.empty()) return std::nullopt;
      auto v = env_(name);
      if (!v || v->empty()) {
        problems_.push_back(fmt::format("{}.env: the environment variable {} is {}", path, name, v ? "empty" : "not set"));
        return std::nullopt;
      }
      return v;
    }
    const auto file = string_field(source, path, "file", std::string(), problems_);
    if (file.empty()) return std::nullopt;
    auto content = read(file, path + ".file");
    if (!content) return std::nullopt;
    return trim_one_newline(std::move(*content));
  }

  // The path at `path` after checking it can be read now: librdkafka would
  // otherwise fail later, when connecting, with an SSL message naming no field.
  std::optional<std::string> readable_path(const json* value, const std::string& path) {
    if (value == nullptr) return std::nullopt;
    if (!value->is_string() || value->get_ref<const std::string&>().empty()) {
      problems_.push_back(fmt::format("{}: must be the path of a readable file", path));
      return std::nullopt;
    }
    const auto file = value->get<std::string>();
    if (!read(file, path)) return std::nullopt;
    return file;
  }

  // Where the database URL came from, for a message about its content.
  static std::string describe(const json* source) {
    if (source != nullptr && field(*source, "env") != nullptr && field(*source, "env")->is_string()) {
      return fmt::format("the environment variable {}", field(*source, "env")->get<std::string>());
    }
    if (source != nullptr && field(*source, "file") != nullptr && field(*source, "file")->is_string()) {
      return field(*source, "file")->get<std::string>();
    }
    return "the configured source";
  }

 private:
  std::optional<std::string> read(const std::string& file, const std::string& path) {
    std::string content;
    try {
      content = read_file_(file);
    } catch (const std::exception& e) {
      // The reader's message is a reason (strerror), never file content.
      problems_.push_back(fmt::format("{}: cannot read {}: {}", path, file, e.what()));
      return std::nullopt;
    }
    if (trim_one_newline(content).empty()) {
      problems_.push_back(fmt::format("{}: {} is empty (check the Secret's key)", path, file));
      return std::nullopt;
    }
    return content;
  }

  const FileReader& read_file_;
  const Environment& env_;
  Problems& problems_;
};

std::optional<pipeline::PipelineSpec> parse_sections(const json& root, Problems& problems) {
  try {
    return pipeline::parse_agent_config_sections(root);
  } catch (const pipeline::SpecError& e) {
    problems.insert(problems.end(), e.problems().begin(), e.problems().end());
  } catch (const json::exception& e) {
    // The parser checks types itself; this only guards a gap in those checks.
    problems.push_back(fmt::format("config: {}", e.what()));
  }
  return std::nullopt;
}

kafka::ConnectionSettings connection_settings(const json& root, const pipeline::KafkaSpec& spec,
                                              Secrets& secrets, Problems& problems) {
  kafka::ConnectionSettings out;
  out.bootstrap_servers = spec.bootstrap_servers;
  out.connect_timeout_ms = spec.connect_timeout_ms;
  out.request_timeout_ms = spec.request_timeout_ms;
  // tls.enabled=false keeps the section but means plaintext: its files are
  // then not read.
  if (spec.tls && spec.tls->enabled) {
    kafka::TlsSettings tls{};
    tls.ca_file = secrets.readable_path(at(root, {"kafka", "tls", "caFile"}), "kafka.tls.caFile").value_or("");
    const json* cert = at(root, {"kafka", "tls", "certFile"});
    const json* key = at(root, {"kafka", "tls", "keyFile"});
    if ((cert == nullptr) != (key == nullptr)) {
      problems.push_back(fmt::format("kafka.tls.{}: required with {} (mutual TLS needs both)",
                                     cert ? "keyFile" : "certFile", cert ? "certFile" : "keyFile"));
    }
    tls.cert_file = secrets.readable_path(cert, "kafka.tls.certFile").value_or("");
    tls.key_file = secrets.readable_path(key, "kafka.tls.keyFile").value_or("");
    out.tls = std::move(tls);
  }
  if (spec.sasl) {
    kafka::SaslSettings sasl;
    sasl.mechanism = spec.sasl->mechanism;
    sasl.username =
        secrets.value(at(root, {"kafka", "sasl", "username"}), "kafka.sasl.username", kSaslUsernameEnv).value_or("");
    sasl.password =
        secrets.value(at(root, {"kafka", "sasl", "password"}), "kafka.sasl.password", kSaslPasswordEnv).value_or("");
    out.sasl = std::move(sasl);
  }
  return out;
}

// libpq would refuse the URL at every connect attempt, with a message that
// quotes it; refusing to start names where it came from instead.
void check_database_url(const std::string& url, const json* source, const Environment& env, Problems& problems) {
  if (url.empty()) return;  // already reported as missing or empty
  const auto problem = pg::url_problem(url);
  if (!problem) return;
  if (const auto from_env = env(kDatabaseUrlEnv); from_env && !from_env->empty()) {
    problems.push_back(fmt::format("{}: the database URL is not valid: it {}", kDatabaseUrlEnv, *problem));
  } else {
    problems.push_back(fmt::format("outbox.databaseUrl: the database URL in {} is not valid: it {}",
                                   Secrets::describe(source), *problem));
  }
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

std::string errno_reason(int error) { return std::error_code(error, std::generic_category()).message(); }

}  // namespace

AgentConfig load_agent_config(const std::string& config_text, const FileReader& read_file, const Environment& env,
                              const HostName& host_name) {
  const json root = parse_document(config_text);
  Problems problems;
  check_header(root, problems);
  if (!problems.empty()) throw ConfigError(join(problems));

  AgentConfig out;
  out.pipeline = metadata(root, problems);
  out.status = status_target(root, out.pipeline, problems);
  const auto spec = parse_sections(root, problems);

  Secrets secrets(read_file, env, problems);
  // Read even when the sections are invalid: the database source does not
  // depend on them, and reporting it now saves another restart.
  const json* database = at(root, {"outbox", "databaseUrl"});
  out.database_url = secrets.value(database, "outbox.databaseUrl", kDatabaseUrlEnv).value_or("");
  check_database_url(out.database_url, database, env, problems);
  if (spec) {
    out.spec = *spec;
    out.kafka = connection_settings(root, spec->kafka, secrets, problems);
  }

  const auto pod_name = env("POD_NAME");
  out.pod_name = pod_name && !pod_name->empty() ? *pod_name : host_name();
  if (out.pod_name.empty()) problems.push_back("POD_NAME: not set and the host name is unknown (set POD_NAME)");
  out.pod_namespace = env("POD_NAMESPACE").value_or("");
  // The agent's Role and its status entry live in the pipeline's namespace;
  // a pod elsewhere (a copied manifest, a stale ConfigMap) would only collect
  // 403s, so say so now.
  if (out.status && !out.pod_namespace.empty() && !out.status->namespace_name.empty() &&
      out.pod_namespace != out.status->namespace_name) {
    problems.push_back(fmt::format(
        "POD_NAMESPACE: the pod runs in \"{}\" but reports into a pipeline in \"{}\" (run the agent in its "
        "pipeline's namespace)",
        out.pod_namespace, out.status->namespace_name));
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
  return load_agent_config(text, read_file_from_disk, process_environment, system_host_name);
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

std::string system_host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

}  // namespace outflow::agent
