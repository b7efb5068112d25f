#pragma once

// How a librdkafka client connects: the pipeline's spec.kafka plus the contents
// of the Secrets it references, turned into librdkafka properties.

#include "common/kafka/handles.h"

#include <spdlog/common.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace outflow::kafka {

// A setting that cannot work; the message names the setting and never its value.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class SaslMechanism { Plain, ScramSha256, ScramSha512 };

// Parses the spec spelling ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512").
std::optional<SaslMechanism> parse_sasl_mechanism(std::string_view text);
std::string_view to_string(SaslMechanism mechanism);

// Each item comes either from a file or as in-memory PEM text, never both.
// The operator uses the PEM fields: it reads Secrets through the API and has
// a read-only root filesystem; the agent can use files of a mounted Secret.
struct TlsSettings {
  std::string ca_file;    // empty (and no ca_pem): the system trust store
  std::string cert_file;  // client certificate (mTLS); comes together with a key
  std::string key_file;
  // The `{}` initializers keep `TlsSettings{ca, cert, key}` free of
  // -Wmissing-field-initializers for existing callers.
  std::string ca_pem{};   // PEM text used instead of the file of the same item
  std::string cert_pem{};
  std::string key_pem{};  // secret: never logged, never in an error message
};

struct SaslSettings {
  SaslMechanism mechanism = SaslMechanism::ScramSha512;
  std::string username;
  std::string password;
};

struct ConnectionSettings {
  std::vector<std::string> bootstrap_servers;
  std::optional<TlsSettings> tls;
  std::optional<SaslSettings> sasl;
  int connect_timeout_ms = 10000;
  int request_timeout_ms = 30000;
};

struct Property {
  std::string name;
  std::string value;
  bool secret = false;  // never logged, never put into an error message
};

// Pure: the librdkafka properties for these settings. Throws ConfigError.
std::vector<Property> client_properties(const ConnectionSettings& settings);

// Builds a librdkafka configuration from properties. Throws ConfigError naming
// the rejected property (and only its name when it is secret).
ConfHandle make_conf(const std::vector<Property>& properties);

// How loud a librdkafka log line is in our log: syslog levels 0-2 errors,
// 3-4 warnings (connection failures come as 3 and also reach the error
// callback), 5-6 info, the rest debug. One exception: the CONFWARN librdkafka
// prints at every client start for enable.gapless.guarantee ("is
// experimental") is debug, because the publisher sets it on purpose (see
// agent/publisher/kafka_producer.h) and a warning at every start would teach
// people to ignore warnings.
spdlog::level::level_enum librdkafka_log_level(int syslog_level, std::string_view facility,
                                               std::string_view message);

// Creates a producer or consumer from a configuration it takes ownership of.
ClientHandle make_client(rd_kafka_type_t type, ConfHandle conf);

}  // namespace outflow::kafka
