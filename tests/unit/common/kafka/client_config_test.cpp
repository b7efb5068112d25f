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
