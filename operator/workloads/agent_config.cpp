#include "operator/workloads/agent_config.h"

#include <fmt/format.h>

#include <set>
#include <string>

namespace outflow::op::workloads {

std::vector<SecretMount> secret_mounts(const pipeline::PipelineSpec& spec) {
  const std::string base = kSecretsDir;
  std::vector<SecretMount> mounts;
  mounts.push_back({"database", spec.outbox.database.name, {{spec.outbox.database.key, "url"}},
                    base + "/database"});
  if (spec.kafka.tls && spec.kafka.tls->ca) {
    mounts.push_back({"kafka-ca", spec.kafka.tls->ca->name, {{spec.kafka.tls->ca->key, "ca.crt"}},
                      base + "/kafka-ca"});
  }
  if (spec.kafka.tls && spec.kafka.tls->client_cert_secret) {
    mounts.push_back({"kafka-client-cert", *spec.kafka.tls->client_cert_secret,
                      {{"tls.crt", "tls.crt"}, {"tls.key", "tls.key"}}, base + "/kafka-client-cert"});
  }
  if (spec.kafka.sasl) {
    mounts.push_back({"kafka-sasl", spec.kafka.sasl->secret_name,
                      {{spec.kafka.sasl->username_key, "username"}, {spec.kafka.sasl->password_key, "password"}},
                      base + "/kafka-sasl"});
  }
  return mounts;
}

std::vector<std::string> referenced_secrets(const pipeline::PipelineSpec& spec) {
  std::set<std::string> names;
  for (const auto& m : secret_mounts(spec)) names.insert(m.secret);
  return {names.begin(), names.end()};
}

namespace {

using nlohmann::json;

std::string mounted_file(const std::vector<SecretMount>& mounts, const std::string& volume, const std::string& file) {
  for (const auto& m : mounts) {
    if (m.volume == volume) return m.mount_path + "/" + file;
  }
  return {};
}

json file_source(const std::string& path) { return {{"file", path}}; }

// Only what the agent reads: topic names but not their layout or configs
// (the operator owns those and the agent reads limits from the broker), no
// agent, alerts, paused or deletion policy. A partition increase or a new
// replica count then leaves the file, and so the pods, as they are.
json kafka_section(const pipeline::KafkaSpec& k, const std::vector<SecretMount>& mounts) {
  json kafka = {{"bootstrapServers", k.bootstrap_servers},
                {"connectTimeoutMs", k.connect_timeout_ms},
                {"requestTimeoutMs", k.request_timeout_ms}};
  if (k.tls && k.tls->enabled) {
    json tls = {{"enabled", true}};
    if (k.tls->ca) tls["caFile"] = mounted_file(mounts, "kafka-ca", "ca.crt");
    if (k.tls->client_cert_secret) {
      tls["certFile"] = mounted_file(mounts, "kafka-client-cert", "tls.crt");
      tls["keyFile"] = mounted_file(mounts, "kafka-client-cert", "tls.key");
    }
    kafka["tls"] = tls;
  }
  if (k.sasl) {
    kafka["sasl"] = {{"mechanism", std::string(kafka::to_string(k.sasl->mechanism))},
                     {"username", file_source(mounted_file(mounts, "kafka-sasl", "username"))},
                     {"password", file_source(mounted_file(mounts, "kafka-sasl", "password"))}};
  }
  return kafka;
}

json outbox_section(const pipeline::OutboxSpec& o, const std::vector<SecretMount>& mounts) {
  const auto& c = o.columns;
  return {{"databaseUrl", file_source(mounted_file(mounts, "database", "url"))},
          {"table", o.table},
          {"columns",
           {{"id", c.id}, {"eventId", c.event_id}, {"topic", c.topic}, {"key", c.key}, {"payload", c.payload},
            {"headers", c.headers}, {"createdAt", c.created_at}, {"publishedAt", c.published_at},
            {"attempts", c.attempts}, {"lastError", c.last_error}}},
          {"defaultTopic", o.default_topic},
          {"batchSize", o.batch_size},
          {"pollIntervalMs", o.poll_interval_ms},
          {"deleteAfterPublish", o.delete_after_publish},
          {"publishedRetentionMs", o.published_retention_ms}};
}

}  // namespace

nlohmann::json agent_config(const PipelineIdentity& pipeline, const pipeline::PipelineSpec& spec) {
  const auto mounts = secret_mounts(spec);
  json topics = json::array();
  for (const auto& t : spec.topics) topics.push_back({{"name", t.name}});
  const auto& b = spec.circuit_breaker;
  json config = {
      {"apiVersion", "outflow.dev/v1alpha1"},
      {"kind", "AgentConfig"},
      {"metadata", {{"namespace", pipeline.namespace_name}, {"name", pipeline.name}}},
      {"kafka", kafka_section(spec.kafka, mounts)},
      {"topics", topics},
      {"outbox", outbox_section(spec.outbox, mounts)},
      {"circuitBreaker",
       {{"failureRateThreshold", b.failure_rate_threshold},
        {"minimumCalls", b.minimum_calls},
        {"windowSize", b.window_size},
        {"openDurationMs", b.open_duration_ms},
        {"halfOpenCalls", b.half_open_calls}}},
      {"status",
       {{"eventPipeline", {{"namespace", pipeline.namespace_name}, {"name", pipeline.name}, {"uid", pipeline.uid}}}}},
  };
  if (spec.dead_letter) {
    const auto& d = *spec.dead_letter;
    config["deadLetter"] = {
        {"topic", d.topic},
        {"maxAttempts", d.max_attempts},
        {"backoff", {{"initialMs", d.backoff.initial_ms}, {"multiplier", d.backoff.multiplier}, {"maxMs", d.backoff.max_ms}}}};
  }
  return config;
}

std::string render_agent_config(const nlohmann::json& config) {
  return "# Rendered by outflow-operator from the EventPipeline; edits are overwritten.\n" +
         config.dump(2) + "\n";
}

nlohmann::json agent_config_map(const PipelineIdentity& pipeline, const std::string& rendered) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", object_metadata(pipeline, agent_name(pipeline))},
          {"data", {{kConfigFile, rendered}}}};
}

}  // namespace outflow::op::workloads
