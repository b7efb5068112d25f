#include "operator/secrets/references.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace outflow::op::secrets;
using outflow::pipeline::PipelineSpec;
using outflow::pipeline::SaslSpec;
using outflow::pipeline::SecretKeyRef;
using outflow::pipeline::TlsSpec;

namespace {

// Database URL from orders-db/url only: a plaintext broker.
PipelineSpec plaintext_spec() {
  PipelineSpec spec;
  spec.kafka.bootstrap_servers = {"kafka-0.kafka:9092"};
  spec.outbox.database = {"orders-db", "url"};
  return spec;
}

// Every kind of reference: database URL, CA, client certificate, SASL.
PipelineSpec full_spec() {
  auto spec = plaintext_spec();
  spec.kafka.tls = TlsSpec{true, SecretKeyRef{"kafka-ca", "ca.crt"}, "app-tls"};
  spec.kafka.sasl = SaslSpec{};
  spec.kafka.sasl->secret_name = "app-kafka";
  return spec;
}

SecretData full_data() {
  return {{"orders-db", {{"url", "postgres://orders:db-pass@db/orders"}}},
          {"kafka-ca", {{"ca.crt", "-----BEGIN CERTIFICATE-----ca"}}},
          {"app-tls", {{"tls.crt", "-----BEGIN CERTIFICATE-----client"},
                       {"tls.key", "-----BEGIN PRIVATE KEY-----key"}}},
          {"app-kafka", {{"username", "orders"}, {"password", "s3cr3t-pass"}}}};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST(MissingSecrets, NothingIsMissingWhenEveryReferencedKeyExists) {
  EXPECT_TRUE(missing_secrets(full_spec(), full_data()).empty());
}

TEST(MissingSecrets, SecretsTheSpecDoesNotReferenceAreNotRequired) {
  // A plaintext pipeline needs neither a CA nor SASL credentials.
  EXPECT_TRUE(missing_secrets(plaintext_spec(), {{"orders-db", {{"url", "postgres://x"}}}}).empty());
}

TEST(MissingSecrets, AMissingSecretIsReportedWithWhatItIsFor) {
  auto data = full_data();
  data.erase("app-kafka");
  const auto missing = missing_secrets(full_spec(), data);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0], (MissingSecret{"app-kafka", "", "Kafka SASL credentials", true}));
}

TEST(MissingSecrets, AMissingSecretIsReportedOncePerSecretNotPerKey) {
  auto data = full_data();
  data.erase("app-tls");  // holds both tls.crt and tls.key
  const auto missing = missing_secrets(full_spec(), data);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].secret, "app-tls");
  EXPECT_EQ(missing[0].key, "");
  EXPECT_EQ(missing[0].purpose, "the Kafka client certificate");
}

TEST(MissingSecrets, AMissingSecretBackingSeveralMountsIsReportedOnce) {
  auto spec = full_spec();
  spec.kafka.tls->ca = SecretKeyRef{"kafka-credentials", "ca.crt"};
  spec.kafka.sasl->secret_name = "kafka-credentials";
  auto data = full_data();
  data.erase("kafka-ca");
  data.erase("app-kafka");
  const auto missing = missing_secrets(spec, data);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].secret, "kafka-credentials");
  EXPECT_EQ(missing[0].key, "");
  EXPECT_TRUE(missing[0].kafka);
}

TEST(MissingSecrets, OneSecretForDatabaseAndKafkaBlocksKafkaWhenMissing) {
  // The database mount comes first, but the same Secret also carries the SASL
  // credentials: without it the operator cannot reach Kafka either.
  auto spec = full_spec();
  spec.outbox.database = {"app-secrets", "url"};
  spec.kafka.sasl->secret_name = "app-secrets";
  auto data = full_data();
  data.erase("orders-db");
  data.erase("app-kafka");
  const auto missing = missing_secrets(spec, data);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].secret, "app-secrets");
  EXPECT_TRUE(missing[0].kafka);
  EXPECT_TRUE(contains(missing[0].purpose, "the outbox database URL")) << missing[0].purpose;
  EXPECT_TRUE(contains(missing[0].purpose, "Kafka SASL credentials")) << missing[0].purpose;
}

TEST(MissingSecrets, AMissingKeyNamesTheSecretAndTheKey) {
  auto data = full_data();
  data["app-kafka"].erase("password");
  const auto missing = missing_secrets(full_spec(), data);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0], (MissingSecret{"app-kafka", "password", "Kafka SASL credentials", true}));
}

TEST(MissingSecrets, CustomKeysAreTheOnesLookedFor) {
  auto spec = full_spec();
  spec.outbox.database.key = "dsn";
  spec.kafka.sasl->username_key = "user";
  const auto missing = missing_secrets(spec, full_data());
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_EQ(missing[0], (MissingSecret{"orders-db", "dsn", "the outbox database URL", false}));
  EXPECT_EQ(missing[1], (MissingSecret{"app-kafka", "user", "Kafka SASL credentials", true}));
}

TEST(MissingSecrets, ReportsEveryMissingSecretInSpecOrderAndWhetherKafkaNeedsIt) {
  const auto missing = missing_secrets(full_spec(), {});
  ASSERT_EQ(missing.size(), 4u);
  EXPECT_EQ(missing[0], (MissingSecret{"orders-db", "", "the outbox database URL", false}));
  EXPECT_EQ(missing[1], (MissingSecret{"kafka-ca", "", "the Kafka CA certificate", true}));
  EXPECT_EQ(missing[2], (MissingSecret{"app-tls", "", "the Kafka client certificate", true}));
  EXPECT_EQ(missing[3], (MissingSecret{"app-kafka", "", "Kafka SASL credentials", true}));
}

TEST(MissingSecrets, AClientCertificateNeedsBothTheCertificateAndTheKey) {
  auto data = full_data();
  data["app-tls"].erase("tls.key");
  const auto missing = missing_secrets(full_spec(), data);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0], (MissingSecret{"app-tls", "tls.key", "the Kafka client certificate", true}));
}

TEST(DescribeMissingSecrets, ListsEachProblemOnOneLine) {
  EXPECT_EQ(describe({{"app-kafka", "", "Kafka SASL credentials", true},
                      {"orders-db", "url", "the outbox database URL", false}}),
            "Secret \"app-kafka\" (Kafka SASL credentials) not found; "
            "Secret \"orders-db\" has no key \"url\" (the outbox database URL)");
}

TEST(DescribeMissingSecrets, IsEmptyWhenNothingIsMissing) {
  EXPECT_EQ(describe({}), "");
}

TEST(DescribeMissingSecrets, NeverContainsAValueOfTheSecretsThatExist) {
  auto data = full_data();
  data["app-kafka"].erase("username");
  data["app-tls"].erase("tls.crt");
  const auto text = describe(missing_secrets(full_spec(), data));
  EXPECT_TRUE(contains(text, "\"username\"")) << text;
  EXPECT_TRUE(contains(text, "\"tls.crt\"")) << text;
  for (const auto& [secret, keys] : data) {
    for (const auto& [key, value] : keys) {
      EXPECT_FALSE(contains(text, value)) << secret << "/" << key << " leaked into: " << text;
    }
  }
}

TEST(SecretChecksumParts, ChangeWhenAReferencedValueChanges) {
  const auto before = checksum_parts(full_spec(), full_data());
  auto data = full_data();
  data["app-kafka"]["password"] = "rotated-pass";
  EXPECT_NE(checksum_parts(full_spec(), data), before);
  data = full_data();
  data["kafka-ca"]["ca.crt"] = "-----BEGIN CERTIFICATE-----new-ca";
  EXPECT_NE(checksum_parts(full_spec(), data), before);
}

TEST(SecretChecksumParts, AreStableForTheSameData) {
  EXPECT_EQ(checksum_parts(full_spec(), full_data()), checksum_parts(full_spec(), full_data()));
}

TEST(SecretChecksumParts, TellAnAbsentKeyFromAnEmptyValue) {
  auto absent = full_data();
  absent["app-kafka"].erase("password");
  auto empty = full_data();
  empty["app-kafka"]["password"] = "";
  EXPECT_NE(checksum_parts(full_spec(), absent), checksum_parts(full_spec(), empty));

  auto secret_gone = full_data();
  secret_gone.erase("app-kafka");
  EXPECT_NE(checksum_parts(full_spec(), secret_gone), checksum_parts(full_spec(), empty));
}

TEST(SecretChecksumParts, IgnoreSecretsAndKeysThePipelineDoesNotReference) {
  const auto before = checksum_parts(full_spec(), full_data());
  auto data = full_data();
  data["unrelated"] = {{"password", "whatever"}};
  data["app-kafka"]["comment"] = "rotated by vault";
  EXPECT_EQ(checksum_parts(full_spec(), data), before);
  data["unrelated"]["password"] = "changed";
  EXPECT_EQ(checksum_parts(full_spec(), data), before);
}

TEST(SecretChecksumParts, NameEachReferencedKey) {
  // The key's name is part of the checksum: pointing the spec at another key
  // with the same value still rolls the pods (the mount changes).
  auto spec = full_spec();
  auto data = full_data();
  data["app-kafka"]["password2"] = data["app-kafka"]["password"];
  const auto before = checksum_parts(spec, data);
  spec.kafka.sasl->password_key = "password2";
  EXPECT_NE(checksum_parts(spec, data), before);
}
