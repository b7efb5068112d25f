#include "operator/workloads/agent_config.h"

#include <fmt/format.h>

#include <set>

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

nlohmann::json agent_config(const PipelineIdentity& pipeline, const pipeline::PipelineSpec& spec) {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& m : secret_mounts(spec)) {
    for (const auto& [key, file] : m.items) {
      const auto path = m.mount_path + "/" + file;
      if (m.volume == "database") files["databaseUrl"] = path;
      if (m.volume == "kafka-ca") files["kafkaCa"] = path;
      if (m.volume == "kafka-client-cert") files[file == "tls.crt" ? "kafkaClientCert" : "kafkaClientKey"] = path;
      if (m.volume == "kafka-sasl") files[file == "username" ? "saslUsername" : "saslPassword"] = path;
    }
  }
  return {{"pipeline", {{"namespace", pipeline.namespace_name}, {"name", pipeline.name}, {"uid", pipeline.uid}}},
          {"spec", pipeline::to_json(spec)},
          {"files", files}};
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
