#include "operator/topics/connection.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

using namespace outflow::op::topics;
using outflow::kafka::SaslMechanism;
using outflow::op::secrets::SecretData;
using outflow::pipeline::KafkaSpec;
using outflow::pipeline::SaslSpec;
using outflow::pipeline::SecretKeyRef;
using outflow::pipeline::TlsSpec;

namespace {

constexpr const char* kCa = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
constexpr const char* kCert = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n";
constexpr const char* kKey = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";
constexpr const char* kPassword = "correct-horse-battery-staple";

KafkaSpec plaintext() {
  KafkaSpec spec;
  spec.bootstrap_servers = {"kafka-0.kafka:9092", "kafka-1.kafka:9092"};
  spec.connect_timeout_ms = 5000;
  spec.request_timeout_ms = 20000;
  return spec;
}

KafkaSpec mutual_tls() {
  auto spec = plaintext();
  spec.tls = TlsSpec{true, SecretKeyRef{"kafka-ca", "ca.crt"}, "app-tls"};
  return spec;
}

KafkaSpec scram(std::string username_key = "username", std::string password_key = "password") {
  auto spec = plaintext();
  spec.sasl = SaslSpec{SaslMechanism::ScramSha256, "app-kafka", std::move(username_key),
                       std::move(password_key)};
  return spec;
}

SecretData secrets() {
  return {{"kafka-ca", {{"ca.crt", kCa}}},
          {"app-tls", {{"tls.crt", kCert}, {"tls.key", kKey}}},
          {"app-kafka", {{"username", "orders"}, {"password", kPassword}, {"user", "alt-user"},
                         {"pass", "alt-pass"}}}};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST(ConnectionSettings, CarriesBrokersAndTimeoutsFromTheSpec) {
  const auto s = connection_settings(plaintext(), {});
  EXPECT_EQ(s.bootstrap_servers, (std::vector<std::string>{"kafka-0.kafka:9092", "kafka-1.kafka:9092"}));
  EXPECT_EQ(s.connect_timeout_ms, 5000);
  EXPECT_EQ(s.request_timeout_ms, 20000);
  EXPECT_FALSE(s.tls.has_value());
  EXPECT_FALSE(s.sasl.has_value());
}

TEST(ConnectionSettings, TlsMaterialIsPassedInMemoryNotAsFiles) {
  const auto s = connection_settings(mutual_tls(), secrets());
  ASSERT_TRUE(s.tls.has_value());
  EXPECT_EQ(s.tls->ca_pem, kCa);
  EXPECT_EQ(s.tls->cert_pem, kCert);
  EXPECT_EQ(s.tls->key_pem, kKey);
  EXPECT_EQ(s.tls->ca_file, "");
  EXPECT_EQ(s.tls->cert_file, "");
  EXPECT_EQ(s.tls->key_file, "");
}

TEST(ConnectionSettings, TlsWithoutACaUsesTheSystemTrustStore) {
  auto spec = plaintext();
  spec.tls = TlsSpec{};
  const auto s = connection_settings(spec, {});
  ASSERT_TRUE(s.tls.has_value());
  EXPECT_EQ(s.tls->ca_pem, "");
  EXPECT_EQ(s.tls->cert_pem, "");
  EXPECT_EQ(s.tls->key_pem, "");
}

TEST(ConnectionSettings, DisabledTlsMeansPlaintextEvenWithSecretRefs) {
  auto spec = mutual_tls();
  spec.tls->enabled = false;
  EXPECT_FALSE(connection_settings(spec, {}).tls.has_value());
}

TEST(ConnectionSettings, SaslCredentialsComeFromTheNamedKeys) {
  const auto s = connection_settings(scram(), secrets());
  ASSERT_TRUE(s.sasl.has_value());
  EXPECT_EQ(s.sasl->mechanism, SaslMechanism::ScramSha256);
  EXPECT_EQ(s.sasl->username, "orders");
  EXPECT_EQ(s.sasl->password, kPassword);

  const auto custom = connection_settings(scram("user", "pass"), secrets());
  ASSERT_TRUE(custom.sasl.has_value());
  EXPECT_EQ(custom.sasl->username, "alt-user");
  EXPECT_EQ(custom.sasl->password, "alt-pass");
}

TEST(ConnectionSettings, AMissingSecretThrowsNamingIt) {
  auto data = secrets();
  data.erase("app-kafka");
  try {
    connection_settings(scram(), data);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "app-kafka")) << e.what();
  }
}

TEST(ConnectionSettings, AMissingKeyThrowsNamingTheSecretAndKeyButNoValue) {
  auto data = secrets();
  data["app-kafka"].erase("password");
  try {
    connection_settings(scram(), data);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "app-kafka")) << e.what();
    EXPECT_TRUE(contains(e.what(), "password")) << e.what();
    EXPECT_FALSE(contains(e.what(), "orders")) << e.what();
  }
}

TEST(ConnectionSettings, AMissingClientKeyThrows) {
  auto data = secrets();
  data["app-tls"].erase("tls.key");
  EXPECT_THROW(connection_settings(mutual_tls(), data), std::invalid_argument);
  data.erase("kafka-ca");
  EXPECT_THROW(connection_settings(mutual_tls(), data), std::invalid_argument);
}

TEST(ConnectionKey, IsEqualForPipelinesThatConnectIdentically) {
  EXPECT_EQ(connection_key(connection_settings(scram(), secrets())),
            connection_key(connection_settings(scram(), secrets())));
  EXPECT_EQ(connection_key(connection_settings(mutual_tls(), secrets())),
            connection_key(connection_settings(mutual_tls(), secrets())));
}

TEST(ConnectionKey, DiffersWhenThePasswordDiffers) {
  auto rotated = secrets();
  rotated["app-kafka"]["password"] = "rotated-password";
  EXPECT_NE(connection_key(connection_settings(scram(), secrets())),
            connection_key(connection_settings(scram(), rotated)));
}

TEST(ConnectionKey, DiffersForAnotherClusterOrAnotherClientCertificate) {
  auto other_cluster = scram();
  other_cluster.bootstrap_servers = {"kafka-0.other:9092"};
  EXPECT_NE(connection_key(connection_settings(scram(), secrets())),
            connection_key(connection_settings(other_cluster, secrets())));

  auto other_key = secrets();
  other_key["app-tls"]["tls.key"] = "-----BEGIN PRIVATE KEY-----\nOTHER\n-----END PRIVATE KEY-----\n";
  EXPECT_NE(connection_key(connection_settings(mutual_tls(), secrets())),
            connection_key(connection_settings(mutual_tls(), other_key)));
}

TEST(ConnectionKey, ContainsNoSecretMaterial) {
  auto spec = mutual_tls();
  spec.sasl = scram().sasl;
  const auto key = connection_key(connection_settings(spec, secrets()));
  EXPECT_FALSE(contains(key, kPassword)) << key;
  EXPECT_FALSE(contains(key, "PRIVATE KEY")) << key;
  EXPECT_FALSE(contains(key, "orders")) << key;
}
