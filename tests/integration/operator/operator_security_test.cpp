// The operator reaches brokers that need TLS and SASL with material from the
// pipeline's Secrets, and keeps that material out of everything it writes.

#include "operator_fixture.h"

#include "testenv.h"

namespace outflow::operator_tests {
namespace {

namespace kinds = kube::kinds;

json topic(const std::string& name) { return {{"name", name}, {"partitions", 1}, {"replicationFactor", 1}}; }

using SecuredKafkaTest = OperatorTest;

TEST_F(SecuredKafkaTest, ScramOverTlsWithCredentialsFromSecrets) {
  auto& op = start_operator();
  const auto password = testenv::require("OUTFLOW_TEST_KAFKA_SCRAM512_PASSWORD");
  create_secret("kafka-ca", {{"ca.crt", testenv::require_file("OUTFLOW_TEST_KAFKA_CA")}});
  create_secret("kafka-user",
                {{"username", testenv::require("OUTFLOW_TEST_KAFKA_SCRAM512_USER")}, {"password", password}});
  const auto name = unique_topic("scram");
  auto p = pipeline("scram", json::array({topic(name)}));
  p["spec"]["kafka"]["bootstrapServers"] = {testenv::require("OUTFLOW_TEST_KAFKA_SASL_SSL")};
  p["spec"]["kafka"]["tls"] = {{"enabled", true}, {"caSecretRef", {{"name", "kafka-ca"}}}};
  p["spec"]["kafka"]["sasl"] = {{"mechanism", "SCRAM-SHA-512"}, {"secretRef", {{"name", "kafka-user"}}}};
  apply(p);
  const auto ready = wait_for_condition("scram", "Ready", "True");
  EXPECT_EQ(describe({name}).size(), 1u);

  // The password appears nowhere the operator writes or logs.
  EXPECT_EQ(ready.dump().find(password), std::string::npos);
  const json events = api_.list(kinds::events(), ns_);
  EXPECT_EQ(events.dump().find(password), std::string::npos);
  const json config_maps = api_.list(kinds::config_maps(), ns_);
  EXPECT_EQ(config_maps.dump().find(password), std::string::npos);
  EXPECT_EQ(op.log().find(password), std::string::npos);
}

TEST_F(SecuredKafkaTest, MutualTlsWithAClientCertificateSecret) {
  start_operator();
  create_secret("kafka-ca", {{"ca.crt", testenv::require_file("OUTFLOW_TEST_KAFKA_CA")}});
  create_secret("app-tls", {{"tls.crt", testenv::require_file("OUTFLOW_TEST_KAFKA_CLIENT_CERT")},
                            {"tls.key", testenv::require_file("OUTFLOW_TEST_KAFKA_CLIENT_KEY")}});
  const auto name = unique_topic("mtls");
  auto p = pipeline("mtls", json::array({topic(name)}));
  p["spec"]["kafka"]["bootstrapServers"] = {testenv::require("OUTFLOW_TEST_KAFKA_SSL")};
  p["spec"]["kafka"]["tls"] = {
      {"enabled", true}, {"caSecretRef", {{"name", "kafka-ca"}}}, {"clientCertSecretRef", {{"name", "app-tls"}}}};
  apply(p);
  wait_for_condition("mtls", "Ready", "True");
  EXPECT_EQ(describe({name}).size(), 1u);
}

}  // namespace
}  // namespace outflow::operator_tests
