#include "operator/topics/connection.h"

#include "operator/workloads/deployment.h"

#include <fmt/format.h>

#include <stdexcept>

namespace outflow::op::topics {
namespace {

const std::string& value_of(const secrets::SecretData& data, const std::string& secret,
                            const std::string& key) {
  const auto found = data.find(secret);
  if (found == data.end() || !found->second.contains(key)) {
    throw std::invalid_argument(fmt::format("Secret \"{}\" key \"{}\" is not available", secret, key));
  }
  return found->second.at(key);
}

}  // namespace

kafka::ConnectionSettings connection_settings(const pipeline::KafkaSpec& spec,
                                              const secrets::SecretData& data) {
  kafka::ConnectionSettings settings;
  settings.bootstrap_servers = spec.bootstrap_servers;
  settings.connect_timeout_ms = spec.connect_timeout_ms;
  settings.request_timeout_ms = spec.request_timeout_ms;
  if (spec.tls && spec.tls->enabled) {
    kafka::TlsSettings tls;
    if (spec.tls->ca) tls.ca_pem = value_of(data, spec.tls->ca->name, spec.tls->ca->key);
    if (spec.tls->client_cert_secret) {
      tls.cert_pem = value_of(data, *spec.tls->client_cert_secret, "tls.crt");
      tls.key_pem = value_of(data, *spec.tls->client_cert_secret, "tls.key");
    }
    settings.tls = tls;
  }
  if (spec.sasl) {
    settings.sasl = kafka::SaslSettings{spec.sasl->mechanism,
                                        value_of(data, spec.sasl->secret_name, spec.sasl->username_key),
                                        value_of(data, spec.sasl->secret_name, spec.sasl->password_key)};
  }
  return settings;
}

std::string connection_key(const kafka::ConnectionSettings& settings) {
  std::vector<std::string> parts;
  for (const auto& p : kafka::client_properties(settings)) {
    parts.push_back(p.name);
    parts.push_back(p.value);
  }
  return workloads::checksum_of(parts);
}

}  // namespace outflow::op::topics
