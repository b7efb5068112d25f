#include "common/pipeline/spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <regex>
#include <set>

namespace outflow::pipeline {
namespace {

using nlohmann::json;
using Problems = std::vector<std::string>;

std::string join(const Problems& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out;
}

// Reads the fields of one JSON object, recording each problem under the
// object's path. Absent and null fields both mean "not set".
class Fields {
 public:
  // `strict`: a field not named in known() is a problem (a hand-written
  // AgentConfig, where a typo would otherwise silently mean a default).
  Fields(const json& object, std::string path, Problems& problems, bool strict = false)
      : object_(object), path_(std::move(path)), problems_(problems), strict_(strict) {
    if (!object_.is_object() && !object_.is_null()) problem("", "must be an object");
  }

  const std::string& path() const { return path_; }
  bool strict() const { return strict_; }
  std::string path_of(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }

  // In strict mode, reports every field that is not one of `keys`.
  void known(std::initializer_list<std::string_view> keys) const {
    if (!strict_ || !object_.is_object()) return;
    for (const auto& [key, value] : object_.items()) {
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
      std::string expected;
      for (const auto k : keys) expected += fmt::format("{}{}", expected.empty() ? "" : ", ", k);
      problem(key, fmt::format("unknown field (expected one of: {})", expected));
    }
  }
  void problem(std::string_view key, std::string_view what) const {
    problems_.push_back(key.empty() ? fmt::format("{}: {}", path_, what)
                                    : fmt::format("{}: {}", path_of(key), what));
  }
  Problems& problems() const { return problems_; }

  const json* get(std::string_view key) const {
    if (!object_.is_object()) return nullptr;
    const auto it = object_.find(std::string(key));
    return (it == object_.end() || it->is_null()) ? nullptr : &*it;
  }
  bool has(std::string_view key) const { return get(key) != nullptr; }

  Fields object(std::string_view key) const {
    static const json null_json;
    const json* v = get(key);
    return Fields(v ? *v : null_json, path_of(key), problems_, strict_);
  }

  std::string string(std::string_view key, std::optional<std::string> fallback = std::nullopt) const {
    const json* v = get(key);
    if (v == nullptr) {
      if (!fallback) problem(key, "is required");
      return fallback.value_or("");
    }
    if (!v->is_string()) {
      problem(key, "must be a string");
      return fallback.value_or("");
    }
    return v->get<std::string>();
  }

  std::int64_t integer(std::string_view key, std::optional<std::int64_t> fallback, std::int64_t min,
                       std::int64_t max) const {
    const json* v = get(key);
    if (v == nullptr) {
      if (!fallback) problem(key, "is required");
      return fallback.value_or(min);
    }
    if (!v->is_number_integer()) {
      problem(key, "must be an integer");
      return fallback.value_or(min);
    }
    const auto n = v->get<std::int64_t>();
    if (n < min || n > max) {
      problem(key, fmt::format("must be between {} and {}, got {}", min, max, n));
      return fallback.value_or(min);
    }
    return n;
  }

  bool boolean(std::string_view key, bool fallback) const {
    const json* v = get(key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) {
      problem(key, "must be true or false");
      return fallback;
    }
    return v->get<bool>();
  }

  std::map<std::string, std::string> string_map(std::string_view key) const {
    std::map<std::string, std::string> out;
    const json* v = get(key);
    if (v == nullptr) return out;
    if (!v->is_object()) {
      problem(key, "must be a map of strings");
      return out;
    }
    for (const auto& [k, value] : v->items()) {
      if (!value.is_string()) {
        problems_.push_back(fmt::format("{}.{}: must be a string (quote numbers, e.g. \"2\")",
                                        path_of(key), k));
        continue;
      }
      out[k] = value.get<std::string>();
    }
    return out;
  }

  // An arbitrary JSON value handed through to Kubernetes as is.
  json passthrough(std::string_view key, json fallback, json::value_t type) const {
    const json* v = get(key);
    if (v == nullptr) return fallback;
    if (v->type() != type) {
      problem(key, type == json::value_t::array ? "must be a list" : "must be an object");
      return fallback;
    }
    return *v;
  }

  std::vector<const json*> list(std::string_view key) const {
    std::vector<const json*> out;
    const json* v = get(key);
    if (v == nullptr) return out;
    if (!v->is_array()) {
      problem(key, "must be a list");
      return out;
    }
    for (const auto& item : *v) out.push_back(&item);
    return out;
  }

 private:
  const json& object_;
  std::string path_;
  Problems& problems_;
  bool strict_;
};

bool valid_topic_name(const std::string& name, std::size_t max_length) {
  static const std::regex pattern("^[A-Za-z0-9._-]+$");
  return !name.empty() && name.size() <= max_length && name != "." && name != ".." &&
         std::regex_match(name, pattern);
}

bool valid_sql_identifier(const std::string& name, bool allow_schema) {
  static const std::regex plain("^[a-z_][a-z0-9_]{0,62}$");
  static const std::regex qualified("^([a-z_][a-z0-9_]{0,62}\\.)?[a-z_][a-z0-9_]{0,62}$");
  return std::regex_match(name, allow_schema ? qualified : plain);
}

void check_topic_name(const Fields& f, std::string_view key, const std::string& name,
                      std::size_t max_length) {
  if (!name.empty() && !valid_topic_name(name, max_length)) {
    f.problem(key, fmt::format("\"{}\" is not a valid Kafka topic name (letters, digits, '.', '_', "
                               "'-'; at most {} characters)",
                               name, max_length));
  }
  // The operator would otherwise create e.g. __consumer_offsets as an ordinary
  // topic on a fresh cluster, breaking every consumer group.
  if (name.starts_with("__")) {
    f.problem(key, fmt::format("\"{}\" starts with '__': such names are Kafka-internal "
                               "(__consumer_offsets, __transaction_state, ...); choose another name",
                               name));
  }
}

// Kafka's metric names turn '.' into '_', so it refuses a topic that differs
// from an existing one only there.
std::string metric_name_of(std::string topic) {
  std::replace(topic.begin(), topic.end(), '.', '_');
  return topic;
}

bool valid_port(const std::string& host_port) {
  const auto port = std::stoi(host_port.substr(host_port.rfind(':') + 1));
  return port >= 1 && port <= 65535;
}

SecretKeyRef secret_key_ref(const Fields& f, std::string default_key) {
  return {f.string("name"), f.string("key", std::move(default_key))};
}

// In an AgentConfig (f.strict()) the Secrets are files or environment
// variables (caFile, certFile, keyFile, sasl.username/password) that
// agent/config reads; here they are only known field names.
KafkaSpec parse_kafka(const Fields& f) {
  f.known({"bootstrapServers", "tls", "sasl", "connectTimeoutMs", "requestTimeoutMs"});
  KafkaSpec k;
  const auto servers = f.list("bootstrapServers");
  if (servers.empty()) f.problem("bootstrapServers", "at least one host:port is required");
  static const std::regex host_port("^([A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\]):[0-9]{1,5}$");
  for (std::size_t i = 0; i < servers.size(); ++i) {
    const auto item_path = fmt::format("{}.bootstrapServers[{}]", f.path(), i);
    if (!servers[i]->is_string() || !std::regex_match(servers[i]->get<std::string>(), host_port)) {
      f.problems().push_back(item_path + ": must be host:port");
      continue;
    }
    if (!valid_port(servers[i]->get<std::string>())) {
      f.problems().push_back(item_path + ": port must be between 1 and 65535");
      continue;
    }
    k.bootstrap_servers.push_back(servers[i]->get<std::string>());
  }
  if (f.has("tls")) {
    const auto t = f.object("tls");
    TlsSpec tls;
    tls.enabled = t.boolean("enabled", true);
    t.known({"enabled", "caFile", "certFile", "keyFile"});
    if (!t.strict() && t.has("caSecretRef")) tls.ca = secret_key_ref(t.object("caSecretRef"), "ca.crt");
    if (!t.strict() && t.has("clientCertSecretRef")) {
      tls.client_cert_secret = t.object("clientCertSecretRef").string("name");
    }
    if (tls.enabled) k.tls = tls;
  }
  if (f.has("sasl")) {
    const auto s = f.object("sasl");
    SaslSpec sasl;
    const auto mechanism = s.string("mechanism", "SCRAM-SHA-512");
    if (auto m = kafka::parse_sasl_mechanism(mechanism)) {
      sasl.mechanism = *m;
    } else {
      s.problem("mechanism", fmt::format("\"{}\" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", mechanism));
    }
    s.known({"mechanism", "username", "password"});
    if (s.strict()) {
      // username and password: read by agent/config
    } else if (!s.has("secretRef")) {
      s.problem("secretRef", "is required: name the Secret that holds the SASL username and password");
    } else {
      const auto ref = s.object("secretRef");
      sasl.secret_name = ref.string("name");
      sasl.username_key = ref.string("usernameKey", "username");
      sasl.password_key = ref.string("passwordKey", "password");
    }
    k.sasl = sasl;
  }
  k.connect_timeout_ms = static_cast<int>(f.integer("connectTimeoutMs", 10000, 100, 300000));
  k.request_timeout_ms = static_cast<int>(f.integer("requestTimeoutMs", 30000, 100, 900000));
  return k;
}

std::vector<TopicSpec> parse_topics(const Fields& spec) {
  std::vector<TopicSpec> topics;
  const auto items = spec.list("topics");
  if (items.empty()) spec.problem("topics", "declare at least one topic");
  std::set<std::string> seen;
  std::map<std::string, std::string> by_metric_name;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Fields t(*items[i], spec.path_of(fmt::format("topics[{}]", i)), spec.problems(), spec.strict());
    t.known({"name", "partitions", "replicationFactor", "config"});
    TopicSpec topic;
    topic.name = t.string("name");
    check_topic_name(t, "name", topic.name, 249);
    if (!topic.name.empty() && !seen.insert(topic.name).second) {
      t.problem("name", fmt::format("\"{}\" is declared twice", topic.name));
    } else if (!topic.name.empty()) {
      const auto [other, fresh] = by_metric_name.emplace(metric_name_of(topic.name), topic.name);
      if (!fresh) {
        t.problem("name", fmt::format("\"{}\" collides with \"{}\" in Kafka's metric names ('.' "
                                      "and '_' are the same there) and Kafka refuses it; rename one",
                                      topic.name, other->second));
      }
    }
    // An AgentConfig may leave the layout to whoever creates the topics: 0.
    const auto unstated = spec.strict() ? std::optional<std::int64_t>(0) : std::nullopt;
    topic.partitions = static_cast<int>(t.integer("partitions", unstated, 1, 10000));
    topic.replication_factor = static_cast<int>(t.integer("replicationFactor", unstated, 1, 32));
    topic.config = t.string_map("config");
    topics.push_back(std::move(topic));
  }
  return topics;
}

DeadLetterSpec parse_dead_letter(const Fields& f) {
  f.known({"topic", "maxAttempts", "backoff", "partitions", "replicationFactor", "config"});
  DeadLetterSpec d;
  d.topic = f.string("topic");
  check_topic_name(f, "topic", d.topic, 240);  // room for ".retry.<n>" and ".parked"
  d.max_attempts = static_cast<int>(f.integer("maxAttempts", 5, 1, 50));
  const auto b = f.object("backoff");
  b.known({"initialMs", "multiplier", "maxMs"});
  d.backoff.initial_ms = b.integer("initialMs", 1000, 1, 86400000);
  d.backoff.multiplier = static_cast<int>(b.integer("multiplier", 2, 1, 10));
  d.backoff.max_ms = b.integer("maxMs", 600000, 1, 604800000);
  if (d.backoff.max_ms < d.backoff.initial_ms) b.problem("maxMs", "must be at least initialMs");
  d.partitions = static_cast<int>(f.integer("partitions", 1, 1, 10000));
  d.replication_factor = static_cast<int>(f.integer("replicationFactor", 1, 1, 32));
  d.config = f.string_map("config");
  return d;
}

OutboxSpec parse_outbox(const Fields& f) {
  f.known({"databaseUrl", "table", "columns", "defaultTopic", "batchSize", "pollIntervalMs",
           "deleteAfterPublish", "publishedRetentionMs"});
  OutboxSpec o;
  if (f.strict()) {
    // databaseUrl: read by agent/config
  } else if (!f.has("databaseSecretRef")) {
    f.problem("databaseSecretRef", "is required: name the Secret key that holds the postgres:// URL");
  } else {
    o.database = secret_key_ref(f.object("databaseSecretRef"), "url");
  }
  o.table = f.string("table", "outbox");
  if (!valid_sql_identifier(o.table, true)) {
    f.problem("table", fmt::format("\"{}\" must be a lower-case SQL identifier, optionally schema.table", o.table));
  }
  const auto c = f.object("columns");
  c.known({"id", "eventId", "topic", "key", "payload", "headers", "createdAt", "publishedAt", "attempts",
           "lastError"});
  std::map<std::string, std::string> field_of_column;
  auto column = [&c, &field_of_column](std::string_view key, std::string& target) {
    target = c.string(key, target);
    if (!valid_sql_identifier(target, false)) {
      c.problem(key, fmt::format("\"{}\" must be a lower-case SQL identifier", target));
    }
    const auto [other, fresh] = field_of_column.emplace(target, std::string(key));
    if (!fresh) {
      c.problem(key, fmt::format("\"{}\" is also the column of {} (fields left out keep their "
                                 "default names); give each field its own column",
                                 target, other->second));
    }
  };
  column("id", o.columns.id);
  column("eventId", o.columns.event_id);
  column("topic", o.columns.topic);
  column("key", o.columns.key);
  column("payload", o.columns.payload);
  column("headers", o.columns.headers);
  column("createdAt", o.columns.created_at);
  column("publishedAt", o.columns.published_at);
  column("attempts", o.columns.attempts);
  column("lastError", o.columns.last_error);
  o.default_topic = f.string("defaultTopic");
  o.batch_size = static_cast<int>(f.integer("batchSize", 500, 1, 10000));
  o.poll_interval_ms = static_cast<int>(f.integer("pollIntervalMs", 1000, 10, 600000));
  o.delete_after_publish = f.boolean("deleteAfterPublish", false);
  o.published_retention_ms = f.integer("publishedRetentionMs", 604800000, 60000, INT64_MAX);
  return o;
}

BreakerSpec parse_breaker(const Fields& f) {
  f.known({"failureRateThreshold", "minimumCalls", "windowSize", "openDurationMs", "halfOpenCalls"});
  BreakerSpec b;
  b.failure_rate_threshold = static_cast<int>(f.integer("failureRateThreshold", 50, 1, 100));
  b.minimum_calls = static_cast<int>(f.integer("minimumCalls", 20, 1, 10000));
  b.window_size = static_cast<int>(f.integer("windowSize", 100, 1, 10000));
  b.open_duration_ms = f.integer("openDurationMs", 30000, 100, 3600000);
  b.half_open_calls = static_cast<int>(f.integer("halfOpenCalls", 5, 1, 1000));
  if (b.minimum_calls > b.window_size) f.problem("minimumCalls", "cannot exceed windowSize");
  return b;
}

AgentSpec parse_agent(const Fields& f) {
  AgentSpec a;
  a.replicas = static_cast<int>(f.integer("replicas", 2, 0, 64));
  a.image = f.string("image", "");
  a.image_pull_policy = f.string("imagePullPolicy", "");
  if (!a.image_pull_policy.empty() && a.image_pull_policy != "Always" &&
      a.image_pull_policy != "IfNotPresent" && a.image_pull_policy != "Never") {
    f.problem("imagePullPolicy", "must be Always, IfNotPresent or Never");
  }
  a.resources = f.passthrough("resources", json::object(), json::value_t::object);
  a.node_selector = f.string_map("nodeSelector");
  a.tolerations = f.passthrough("tolerations", json::array(), json::value_t::array);
  a.affinity = f.passthrough("affinity", json::object(), json::value_t::object);
  a.priority_class_name = f.string("priorityClassName", "");
  a.pod_annotations = f.string_map("podAnnotations");
  return a;
}

AlertsSpec parse_alerts(const Fields& f) {
  AlertsSpec a;
  a.defaults = f.boolean("defaults", true);
  a.labels = f.string_map("labels");
  static const std::regex alert_name("^[A-Za-z_][A-Za-z0-9_]*$");
  static const std::regex duration("^([0-9]+(ms|s|m|h|d|w|y))+$");
  std::set<std::string> seen;
  const auto items = f.list("rules");
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Fields r(*items[i], fmt::format("{}.rules[{}]", f.path(), i), f.problems());
    AlertRule rule;
    rule.alert = r.string("alert");
    if (!rule.alert.empty() && !std::regex_match(rule.alert, alert_name)) {
      r.problem("alert", "uses letters, digits and '_' and does not start with a digit");
    }
    if (!rule.alert.empty() && !seen.insert(rule.alert).second) {
      r.problem("alert", fmt::format("\"{}\" is declared twice", rule.alert));
    }
    rule.expr = r.string("expr");
    rule.for_duration = r.string("for", "");
    if (!rule.for_duration.empty() && !std::regex_match(rule.for_duration, duration)) {
      r.problem("for", "must be a Prometheus duration such as 30s, 5m or 1h");
    }
    rule.severity = r.string("severity", "warning");
    if (rule.severity != "info" && rule.severity != "warning" && rule.severity != "critical") {
      r.problem("severity", "must be info, warning or critical");
    }
    rule.summary = r.string("summary", "");
    rule.description = r.string("description", "");
    rule.labels = r.string_map("labels");
    a.rules.push_back(std::move(rule));
  }
  return a;
}

}  // namespace

SpecError::SpecError(std::vector<std::string> problems)
    : std::runtime_error(join(problems)), problems_(std::move(problems)) {}

namespace {

// The sections an agent uses, read the same way from an EventPipeline's spec
// and from an AgentConfig (f.strict()), plus the rules that span them.
void parse_agent_sections(const Fields& f, PipelineSpec& out) {
  if (!f.has("kafka")) {
    f.problem("kafka", "is required");
  } else {
    out.kafka = parse_kafka(f.object("kafka"));
  }
  out.topics = parse_topics(f);
  if (f.has("deadLetter")) out.dead_letter = parse_dead_letter(f.object("deadLetter"));
  if (!f.has("outbox")) {
    f.problem("outbox", "is required");
  } else {
    out.outbox = parse_outbox(f.object("outbox"));
  }
  out.circuit_breaker = parse_breaker(f.object("circuitBreaker"));

  const auto declared = [&out](const std::string& name) {
    for (const auto& t : out.topics) {
      if (t.name == name) return true;
    }
    return false;
  };
  if (!out.outbox.default_topic.empty() && !declared(out.outbox.default_topic)) {
    f.problem("outbox.defaultTopic",
              fmt::format("\"{}\" is not one of {}", out.outbox.default_topic, f.path_of("topics")));
  }
  if (out.dead_letter) {
    const auto& dlq = out.dead_letter->topic;
    for (const auto& t : out.topics) {
      if (t.name == dlq || t.name == dlq + ".parked" || t.name.starts_with(dlq + ".retry.")) {
        f.problem("topics", fmt::format("\"{}\" belongs to {} ({}); it is created with the dead-letter "
                                        "family, remove it from {}",
                                        t.name, f.path_of("deadLetter"), dlq, f.path_of("topics")));
      }
    }
  }
}

}  // namespace

PipelineSpec parse_spec(const nlohmann::json& spec) {
  Problems problems;
  const Fields f(spec, "spec", problems);
  PipelineSpec out;
  parse_agent_sections(f, out);
  out.agent = parse_agent(f.object("agent"));
  out.alerts = parse_alerts(f.object("alerts"));
  const auto policy = f.string("topicDeletionPolicy", "Retain");
  if (policy == "Delete") {
    out.topic_deletion_policy = TopicDeletionPolicy::Delete;
  } else if (policy != "Retain") {
    f.problem("topicDeletionPolicy", fmt::format("\"{}\" must be Retain or Delete", policy));
  }
  out.paused = f.boolean("paused", false);
  if (!problems.empty()) throw SpecError(std::move(problems));
  return out;
}

PipelineSpec parse_agent_config_sections(const nlohmann::json& root) {
  Problems problems;
  const Fields f(root, "", problems, /*strict=*/true);
  PipelineSpec out;
  parse_agent_sections(f, out);
  if (!problems.empty()) throw SpecError(std::move(problems));
  return out;
}

nlohmann::json to_json(const PipelineSpec& s) {
  json kafka = {{"bootstrapServers", s.kafka.bootstrap_servers},
                {"connectTimeoutMs", s.kafka.connect_timeout_ms},
                {"requestTimeoutMs", s.kafka.request_timeout_ms}};
  if (s.kafka.tls) {
    json tls = {{"enabled", s.kafka.tls->enabled}};
    if (s.kafka.tls->ca) tls["caSecretRef"] = {{"name", s.kafka.tls->ca->name}, {"key", s.kafka.tls->ca->key}};
    if (s.kafka.tls->client_cert_secret) {
      tls["clientCertSecretRef"] = {{"name", *s.kafka.tls->client_cert_secret}};
    }
    kafka["tls"] = tls;
  }
  if (s.kafka.sasl) {
    kafka["sasl"] = {{"mechanism", std::string(kafka::to_string(s.kafka.sasl->mechanism))},
                     {"secretRef",
                      {{"name", s.kafka.sasl->secret_name},
                       {"usernameKey", s.kafka.sasl->username_key},
                       {"passwordKey", s.kafka.sasl->password_key}}}};
  }
  json topics = json::array();
  for (const auto& t : s.topics) {
    topics.push_back({{"name", t.name},
                      {"partitions", t.partitions},
                      {"replicationFactor", t.replication_factor},
                      {"config", t.config}});
  }
  const auto& c = s.outbox.columns;
  json out = {
      {"kafka", kafka},
      {"topics", topics},
      {"outbox",
       {{"databaseSecretRef", {{"name", s.outbox.database.name}, {"key", s.outbox.database.key}}},
        {"table", s.outbox.table},
        {"columns",
         {{"id", c.id}, {"eventId", c.event_id}, {"topic", c.topic}, {"key", c.key},
          {"payload", c.payload}, {"headers", c.headers}, {"createdAt", c.created_at},
          {"publishedAt", c.published_at}, {"attempts", c.attempts}, {"lastError", c.last_error}}},
        {"defaultTopic", s.outbox.default_topic},
        {"batchSize", s.outbox.batch_size},
        {"pollIntervalMs", s.outbox.poll_interval_ms},
        {"deleteAfterPublish", s.outbox.delete_after_publish},
        {"publishedRetentionMs", s.outbox.published_retention_ms}}},
      {"circuitBreaker",
       {{"failureRateThreshold", s.circuit_breaker.failure_rate_threshold},
        {"minimumCalls", s.circuit_breaker.minimum_calls},
        {"windowSize", s.circuit_breaker.window_size},
        {"openDurationMs", s.circuit_breaker.open_duration_ms},
        {"halfOpenCalls", s.circuit_breaker.half_open_calls}}},
      {"agent",
       {{"replicas", s.agent.replicas}, {"resources", s.agent.resources},
        {"nodeSelector", s.agent.node_selector}, {"tolerations", s.agent.tolerations},
        {"affinity", s.agent.affinity}, {"podAnnotations", s.agent.pod_annotations}}},
      {"alerts", {{"defaults", s.alerts.defaults}, {"labels", s.alerts.labels}, {"rules", json::array()}}},
      {"topicDeletionPolicy", s.topic_deletion_policy == TopicDeletionPolicy::Delete ? "Delete" : "Retain"},
      {"paused", s.paused},
  };
  if (!s.agent.image.empty()) out["agent"]["image"] = s.agent.image;
  if (!s.agent.image_pull_policy.empty()) out["agent"]["imagePullPolicy"] = s.agent.image_pull_policy;
  if (!s.agent.priority_class_name.empty()) out["agent"]["priorityClassName"] = s.agent.priority_class_name;
  for (const auto& r : s.alerts.rules) {
    json rule = {{"alert", r.alert}, {"expr", r.expr}, {"severity", r.severity}, {"labels", r.labels}};
    if (!r.for_duration.empty()) rule["for"] = r.for_duration;
    if (!r.summary.empty()) rule["summary"] = r.summary;
    if (!r.description.empty()) rule["description"] = r.description;
    out["alerts"]["rules"].push_back(rule);
  }
  if (s.dead_letter) {
    const auto& d = *s.dead_letter;
    out["deadLetter"] = {{"topic", d.topic},
                         {"maxAttempts", d.max_attempts},
                         {"backoff",
                          {{"initialMs", d.backoff.initial_ms},
                           {"multiplier", d.backoff.multiplier},
                           {"maxMs", d.backoff.max_ms}}},
                         {"partitions", d.partitions},
                         {"replicationFactor", d.replication_factor},
                         {"config", d.config}};
  }
  return out;
}

}  // namespace outflow::pipeline
