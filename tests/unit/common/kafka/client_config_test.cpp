#include "common/kafka/client_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

using namespace outflow::kafka;

namespace {

std::map<std::string, std::string> as_map(const std::vector<Property>& props) {
  std::map<std::string, std::string> m;
  for (const auto& p : props) m[p.name] = p.value;
  return m;
}

ConnectionSettings plain() {
  ConnectionSettings s;
  s.bootstrap_servers = {"kafka-0:9092", "kafka-1:9092"};
  return s;
}

}  // namespace

TEST(ClientProperties, PlaintextJoinsBootstrapServersAndSetsTimeouts) {
  auto s = plain();
  s.connect_timeout_ms = 5000;
  s.request_timeout_ms = 20000;
  const auto m = as_map(client_properties(s));
  EXPECT_EQ(m.at("bootstrap.servers"), "kafka-0:9092,kafka-1:9092");
  EXPECT_EQ(m.at("security.protocol"), "plaintext");
  EXPECT_EQ(m.at("socket.connection.setup.timeout.ms"), "5000");
  EXPECT_EQ(m.at("socket.timeout.ms"), "20000");
  EXPECT_EQ(m.count("sasl.mechanisms"), 0u);
}

TEST(ClientProperties, SecurityProtocolFollowsTlsAndSasl) {
  auto tls = plain();
  tls.tls = TlsSettings{"/ca.crt", "", ""};
  EXPECT_EQ(as_map(client_properties(tls)).at("security.protocol"), "ssl");
  EXPECT_EQ(as_map(client_properties(tls)).at("ssl.ca.location"), "/ca.crt");

  auto sasl = plain();
  sasl.sasl = SaslSettings{SaslMechanism::ScramSha256, "u", "p"};
  EXPECT_EQ(as_map(client_properties(sasl)).at("security.protocol"), "sasl_plaintext");
  EXPECT_EQ(as_map(client_properties(sasl)).at("sasl.mechanisms"), "SCRAM-SHA-256");

  auto both = sasl;
  both.tls = TlsSettings{};
  EXPECT_EQ(as_map(client_properties(both)).at("security.protocol"), "sasl_ssl");
}

TEST(ClientProperties, MutualTlsNeedsCertificateAndKeyTogether) {
  auto s = plain();
  s.tls = TlsSettings{"/ca.crt", "/tls.crt", "/tls.key"};
  const auto m = as_map(client_properties(s));
  EXPECT_EQ(m.at("ssl.certificate.location"), "/tls.crt");
  EXPECT_EQ(m.at("ssl.key.location"), "/tls.key");

  s.tls->key_file.clear();
  EXPECT_THROW(client_properties(s), ConfigError);
}

TEST(ClientProperties, PasswordIsMarkedSecret) {
  auto s = plain();
  s.sasl = SaslSettings{SaslMechanism::ScramSha512, "app", "hunter2"};
  const auto props = client_properties(s);
  const auto it = std::find_if(props.begin(), props.end(),
                               [](const Property& p) { return p.name == "sasl.password"; });
  ASSERT_NE(it, props.end());
  EXPECT_TRUE(it->secret);
  for (const auto& p : props) {
    if (p.name != "sasl.password") {
      EXPECT_FALSE(p.secret) << p.name;
    }
  }
}

TEST(ClientProperties, InvalidSettingsNameTheField) {
  ConnectionSettings empty;
  try {
    client_properties(empty);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("kafka.bootstrapServers"), std::string::npos);
  }
  auto no_port = plain();
  no_port.bootstrap_servers = {"kafka-0"};
  EXPECT_THROW(client_properties(no_port), ConfigError);
  auto bad_timeout = plain();
  bad_timeout.request_timeout_ms = 0;
  EXPECT_THROW(client_properties(bad_timeout), ConfigError);
  auto no_user = plain();
  no_user.sasl = SaslSettings{SaslMechanism::Plain, "", "secret"};
  EXPECT_THROW(client_properties(no_user), ConfigError);
}

TEST(SaslMechanism, ParsesSpecSpellingsOnly) {
  EXPECT_EQ(parse_sasl_mechanism("PLAIN"), SaslMechanism::Plain);
  EXPECT_EQ(parse_sasl_mechanism("SCRAM-SHA-256"), SaslMechanism::ScramSha256);
  EXPECT_EQ(parse_sasl_mechanism("SCRAM-SHA-512"), SaslMechanism::ScramSha512);
  EXPECT_FALSE(parse_sasl_mechanism("scram-sha-512"));
  EXPECT_FALSE(parse_sasl_mechanism("GSSAPI"));
}

TEST(MakeConf, RejectedSecretPropertyIsNamedWithoutItsValue) {
  // librdkafka rejects an unknown property; a "secret" one must not leak its value.
  try {
    make_conf({{"no.such.property", "s3cr3t-value", true}});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("no.such.property"), std::string::npos);
    EXPECT_EQ(msg.find("s3cr3t-value"), std::string::npos);
  }
}

namespace {

const Property* find_property(const std::vector<Property>& props, const std::string& name) {
  const auto it = std::find_if(props.begin(), props.end(),
                               [&](const Property& p) { return p.name == name; });
  return it == props.end() ? nullptr : &*it;
}

std::string config_error_of(const ConnectionSettings& settings) {
  try {
    client_properties(settings);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ClientProperties, InMemoryPemReplacesFilesAndOnlyTheKeyIsSecret) {
  auto s = plain();
  s.tls = TlsSettings{};
  s.tls->ca_pem = "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n";
  s.tls->cert_pem = "-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n";
  s.tls->key_pem = "-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n";
  const auto props = client_properties(s);
  const auto m = as_map(props);
  EXPECT_EQ(m.at("security.protocol"), "ssl");
  EXPECT_EQ(m.at("ssl.ca.pem"), s.tls->ca_pem);
  EXPECT_EQ(m.at("ssl.certificate.pem"), s.tls->cert_pem);
  EXPECT_EQ(m.at("ssl.key.pem"), s.tls->key_pem);
  for (const char* file_property :
       {"ssl.ca.location", "ssl.certificate.location", "ssl.key.location"}) {
    EXPECT_EQ(m.count(file_property), 0u) << file_property;
  }
  ASSERT_NE(find_property(props, "ssl.key.pem"), nullptr);
  EXPECT_TRUE(find_property(props, "ssl.key.pem")->secret);
  EXPECT_FALSE(find_property(props, "ssl.ca.pem")->secret);
  EXPECT_FALSE(find_property(props, "ssl.certificate.pem")->secret);
}

TEST(ClientProperties, CaPemAloneWorksWithSasl) {
  auto s = plain();
  s.tls = TlsSettings{};
  s.tls->ca_pem = "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n";
  s.sasl = SaslSettings{SaslMechanism::ScramSha512, "app", "pw"};
  const auto m = as_map(client_properties(s));
  EXPECT_EQ(m.at("security.protocol"), "sasl_ssl");
  EXPECT_EQ(m.at("ssl.ca.pem"), s.tls->ca_pem);
  EXPECT_EQ(m.count("ssl.certificate.pem"), 0u);
  EXPECT_EQ(m.count("ssl.key.pem"), 0u);
}

TEST(ClientProperties, FileAndPemOfOneItemIsAnErrorNamingTheSetting) {
  auto ca = plain();
  ca.tls = TlsSettings{"/ca.crt", "", ""};
  ca.tls->ca_pem = "pem";
  EXPECT_NE(config_error_of(ca).find("kafka.tls.caSecretRef"), std::string::npos);

  auto cert = plain();
  cert.tls = TlsSettings{"", "/tls.crt", "/tls.key"};
  cert.tls->cert_pem = "pem";
  EXPECT_NE(config_error_of(cert).find("tls.crt"), std::string::npos) << config_error_of(cert);

  auto key = plain();
  key.tls = TlsSettings{"", "/tls.crt", "/tls.key"};
  key.tls->key_pem = "super-secret-key-text";
  const auto message = config_error_of(key);
  EXPECT_NE(message.find("tls.key"), std::string::npos) << message;
  EXPECT_EQ(message.find("super-secret-key-text"), std::string::npos);
}

TEST(ClientProperties, PemCertificateAndKeyMustComeTogether) {
  auto cert_only = plain();
  cert_only.tls = TlsSettings{};
  cert_only.tls->cert_pem = "cert";
  EXPECT_NE(config_error_of(cert_only).find("kafka.tls.clientCertSecretRef"), std::string::npos);

  auto key_only = plain();
  key_only.tls = TlsSettings{};
  key_only.tls->key_pem = "key";
  EXPECT_NE(config_error_of(key_only).find("kafka.tls.clientCertSecretRef"), std::string::npos);

  // One from a file and the other in memory is still a pair.
  auto mixed = plain();
  mixed.tls = TlsSettings{"", "/tls.crt", ""};
  mixed.tls->key_pem = "key";
  const auto m = as_map(client_properties(mixed));
  EXPECT_EQ(m.at("ssl.certificate.location"), "/tls.crt");
  EXPECT_EQ(m.at("ssl.key.pem"), "key");
}

TEST(MakeClient, UnusablePemKeyFailsWithoutQuotingIt) {
  // librdkafka parses the PEM text when the client is created; its complaint
  // must not carry the key material.
  auto s = plain();
  s.tls = TlsSettings{};
  s.tls->cert_pem = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n";
  s.tls->key_pem =
      "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n";
  try {
    make_client(RD_KAFKA_PRODUCER, make_conf(client_properties(s)));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find("c2VjcmV0LWtleS1ieXRlcw"), std::string::npos) << msg;
  }
}

TEST(LibrdkafkaLogLevel, FollowsSyslogLevelsWithConnectionFailuresAsWarnings) {
  EXPECT_EQ(librdkafka_log_level(2, "X", "m"), spdlog::level::err);
  EXPECT_EQ(librdkafka_log_level(3, "FAIL", "Connect to ipv4#127.0.0.1:1 failed"), spdlog::level::warn);
  EXPECT_EQ(librdkafka_log_level(4, "CONFWARN", "Configuration property foo is deprecated"),
            spdlog::level::warn);
  EXPECT_EQ(librdkafka_log_level(6, "X", "m"), spdlog::level::info);
  EXPECT_EQ(librdkafka_log_level(7, "X", "m"), spdlog::level::debug);
}

TEST(LibrdkafkaLogLevel, TheGaplessGuaranteeWeSetOnPurposeIsNotAWarning) {
  EXPECT_EQ(librdkafka_log_level(
                4, "CONFWARN",
                "[thrd:app]: Configuration property enable.gapless.guarantee is experimental: When set to `true`, ..."),
            spdlog::level::debug);
}
