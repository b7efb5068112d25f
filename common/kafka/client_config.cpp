#include "common/kafka/client_config.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>

namespace outflow::kafka {

std::optional<SaslMechanism> parse_sasl_mechanism(std::string_view text) {
  if (text == "PLAIN") return SaslMechanism::Plain;
  if (text == "SCRAM-SHA-256") return SaslMechanism::ScramSha256;
  if (text == "SCRAM-SHA-512") return SaslMechanism::ScramSha512;
  return std::nullopt;
}

std::string_view to_string(SaslMechanism mechanism) {
  switch (mechanism) {
    case SaslMechanism::Plain: return "PLAIN";
    case SaslMechanism::ScramSha256: return "SCRAM-SHA-256";
    case SaslMechanism::ScramSha512: return "SCRAM-SHA-512";
  }
  return "PLAIN";
}

namespace {

// One TLS item from either its file or its PEM text. Two sources would leave
// librdkafka to pick one silently, so that is refused, naming the setting.
void tls_item(std::vector<Property>& props, std::string_view setting, const std::string& file,
              const std::string& pem, const char* file_property, const char* pem_property,
              bool secret) {
  if (!file.empty() && !pem.empty()) {
    throw ConfigError(
        fmt::format("{}: given both as a file and as in-memory PEM; set only one", setting));
  }
  if (!file.empty()) props.push_back({file_property, file});
  if (!pem.empty()) props.push_back({pem_property, pem, secret});
}

}  // namespace

std::vector<Property> client_properties(const ConnectionSettings& settings) {
  if (settings.bootstrap_servers.empty()) {
    throw ConfigError("kafka.bootstrapServers: at least one host:port is required");
  }
  std::string bootstrap;
  for (const auto& server : settings.bootstrap_servers) {
    if (server.empty() || server.find(':') == std::string::npos) {
      throw ConfigError(fmt::format(
          "kafka.bootstrapServers: \"{}\" is not host:port", server));
    }
    if (!bootstrap.empty()) bootstrap += ',';
    bootstrap += server;
  }
  if (settings.connect_timeout_ms <= 0) {
    throw ConfigError("kafka.connectTimeoutMs: must be a positive number of milliseconds");
  }
  if (settings.request_timeout_ms <= 0) {
    throw ConfigError("kafka.requestTimeoutMs: must be a positive number of milliseconds");
  }

  std::vector<Property> props = {
      {"bootstrap.servers", bootstrap},
      {"socket.connection.setup.timeout.ms", std::to_string(settings.connect_timeout_ms)},
      {"socket.timeout.ms", std::to_string(settings.request_timeout_ms)},
  };

  const bool tls = settings.tls.has_value();
  const bool sasl = settings.sasl.has_value();
  props.push_back({"security.protocol",
                   tls ? (sasl ? "sasl_ssl" : "ssl") : (sasl ? "sasl_plaintext" : "plaintext")});

  if (tls) {
    const auto& t = *settings.tls;
    tls_item(props, "kafka.tls.caSecretRef (ca.crt)", t.ca_file, t.ca_pem, "ssl.ca.location",
             "ssl.ca.pem", false);
    const bool has_cert = !t.cert_file.empty() || !t.cert_pem.empty();
    const bool has_key = !t.key_file.empty() || !t.key_pem.empty();
    if (has_cert != has_key) {
      throw ConfigError(
          "kafka.tls.clientCertSecretRef: needs both a certificate (tls.crt) and a key (tls.key)");
    }
    tls_item(props, "kafka.tls.clientCertSecretRef (tls.crt)", t.cert_file, t.cert_pem,
             "ssl.certificate.location", "ssl.certificate.pem", false);
    tls_item(props, "kafka.tls.clientCertSecretRef (tls.key)", t.key_file, t.key_pem,
             "ssl.key.location", "ssl.key.pem", true);
  }
  if (sasl) {
    const auto& s = *settings.sasl;
    if (s.username.empty()) throw ConfigError("kafka.sasl: the username is empty");
    if (s.password.empty()) throw ConfigError("kafka.sasl: the password is empty");
    props.push_back({"sasl.mechanisms", std::string(to_string(s.mechanism))});
    props.push_back({"sasl.username", s.username});
    props.push_back({"sasl.password", s.password, true});
  }
  return props;
}

namespace {

// librdkafka logs through our logger (text or JSON like every other line of
// the binary) instead of printing its own format to stderr. Called from
// librdkafka's threads; spdlog is thread-safe. Syslog levels: connection
// failures arrive as 3, which librdkafka also reports (once) through the
// error callback, so they are warnings here, not errors.
void log_to_spdlog(const rd_kafka_t* client, int level, const char* facility, const char* message) {
  const std::string_view text = message ? message : "";
  const std::string_view from = facility ? facility : "";
  spdlog::log(librdkafka_log_level(level, from, text), "librdkafka {} {}: {}", client ? rd_kafka_name(client) : "",
              from, text);
}

}  // namespace

spdlog::level::level_enum librdkafka_log_level(int syslog_level, std::string_view facility,
                                               std::string_view message) {
  if (facility == "CONFWARN" && message.find("enable.gapless.guarantee is experimental") != std::string_view::npos) {
    return spdlog::level::debug;
  }
  return syslog_level <= 2   ? spdlog::level::err
         : syslog_level <= 4 ? spdlog::level::warn
         : syslog_level <= 6 ? spdlog::level::info
                             : spdlog::level::debug;
}

ConfHandle make_conf(const std::vector<Property>& properties) {
  ConfHandle conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), &log_to_spdlog);
  std::array<char, 512> err{};
  for (const auto& p : properties) {
    if (rd_kafka_conf_set(conf.get(), p.name.c_str(), p.value.c_str(), err.data(), err.size()) !=
        RD_KAFKA_CONF_OK) {
      // librdkafka may quote the value in its message, so a secret gets only its name.
      throw ConfigError(p.secret ? fmt::format("kafka client property {} was rejected", p.name)
                                 : fmt::format("kafka client property {}: {}", p.name, err.data()));
    }
  }
  return conf;
}

ClientHandle make_client(rd_kafka_type_t type, ConfHandle conf) {
  std::array<char, 512> err{};
  ClientHandle client(rd_kafka_new(type, conf.get(), err.data(), err.size()));
  if (!client) throw ConfigError(fmt::format("cannot create kafka client: {}", err.data()));
  (void)conf.release();  // rd_kafka_new owns the configuration once it succeeds
  return client;
}

}  // namespace outflow::kafka
