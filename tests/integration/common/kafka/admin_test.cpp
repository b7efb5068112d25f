// The Admin API wrappers the operator reconciles topics with, against the real
// KRaft broker: describe, grow, reconfigure, delete, the cluster id, what an
// unreachable cluster looks like, and connecting with in-memory TLS material.

#include "common/kafka/admin.h"
#include "common/kafka/client_config.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <thread>

using namespace outflow;
using namespace std::chrono_literals;

namespace {

using Config = std::map<std::string, std::string>;

kafka::ConnectionSettings plaintext() {
  kafka::ConnectionSettings s;
  s.bootstrap_servers = {testenv::require("OUTFLOW_TEST_KAFKA_PLAINTEXT")};
  return s;
}

kafka::ClientHandle admin_client(const kafka::ConnectionSettings& settings) {
  return kafka::make_client(RD_KAFKA_PRODUCER,
                            kafka::make_conf(kafka::client_properties(settings)));
}

const kafka::TopicOutcome* outcome_for(const std::vector<kafka::TopicOutcome>& outcomes,
                                       const std::string& name) {
  for (const auto& o : outcomes) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

void create(rd_kafka_t* client, const std::string& name, int partitions, Config config = {}) {
  const auto outcomes =
      kafka::create_topics(client, {{name, partitions, 1, std::move(config)}}, 30s);
  ASSERT_EQ(outcomes.size(), 1u);
  ASSERT_TRUE(outcomes[0].ok()) << outcomes[0].message;
}

// Metadata and configs reach every broker a moment after an Admin call
// returns; readers poll (bounded) until what they expect shows up.
std::map<std::string, kafka::DescribedTopic> describe_until(
    rd_kafka_t* client, const std::vector<std::string>& names,
    const std::function<bool(const std::map<std::string, kafka::DescribedTopic>&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  for (;;) {
    auto described = kafka::describe_topics(client, names, 10s);
    if (done(described) || std::chrono::steady_clock::now() > deadline) return described;
    std::this_thread::sleep_for(200ms);
  }
}

std::map<std::string, kafka::DescribedTopic> describe_when_present(rd_kafka_t* client,
                                                                   const std::string& name) {
  return describe_until(client, {name}, [&](const auto& d) { return d.contains(name); });
}

}  // namespace

TEST(KafkaAdminDescribe, ReportsLayoutAndOnlyTheTopicsOwnOverrides) {
  auto client = admin_client(plaintext());
  const auto topic = testenv::unique_name("outflow.it.describe");
  const Config overrides = {{"retention.ms", "3600000"}, {"cleanup.policy", "compact"}};
  create(client.get(), topic, 3, overrides);

  const auto missing = topic + ".absent";
  const auto described = describe_until(client.get(), {topic, missing}, [&](const auto& d) {
    return d.contains(topic) && d.at(topic).dynamic_config == overrides;
  });
  ASSERT_TRUE(described.contains(topic));
  const auto& t = described.at(topic);
  EXPECT_EQ(t.name, topic);
  EXPECT_EQ(t.partitions, 3);
  EXPECT_EQ(t.replication_factor, 1);
  // Broker and static defaults (segment.bytes, ...) are not overrides.
  EXPECT_EQ(t.dynamic_config, overrides);
  EXPECT_FALSE(described.contains(missing));
  EXPECT_EQ(described.size(), 1u);
}

TEST(KafkaAdminDescribe, ReportsTheEffectiveSizeLimitAndCompactionWhateverTheirSource) {
  auto client = admin_client(plaintext());
  const auto limited = testenv::unique_name("outflow.it.limited");
  const auto plain = testenv::unique_name("outflow.it.plain");
  create(client.get(), limited, 1, {{"max.message.bytes", "4096"}, {"cleanup.policy", "compact,delete"}});
  create(client.get(), plain, 1);
  const auto described = describe_until(client.get(), {limited, plain}, [&](const auto& d) {
    return d.contains(limited) && d.contains(plain) && d.at(limited).max_message_bytes == 4096;
  });
  ASSERT_TRUE(described.contains(limited) && described.contains(plain));
  EXPECT_EQ(described.at(limited).max_message_bytes, 4096);
  EXPECT_TRUE(described.at(limited).compacted);
  // Not set on the topic: the broker's default (1 MiB plus the batch
  // overhead since Kafka 2.x) still comes back, because it binds the producer.
  ASSERT_TRUE(described.at(plain).max_message_bytes.has_value());
  EXPECT_GT(*described.at(plain).max_message_bytes, 4096);
  EXPECT_FALSE(described.at(plain).compacted);
}

TEST(KafkaAdminDescribe, UnknownTopicsAndEmptyRequestsGiveAnEmptyMap) {
  auto client = admin_client(plaintext());
  EXPECT_TRUE(kafka::describe_topics(client.get(), {}, 10s).empty());
  const auto nothing = testenv::unique_name("outflow.it.nothing");
  EXPECT_TRUE(kafka::describe_topics(client.get(), {nothing}, 10s).empty());
}

TEST(KafkaAdminPartitions, GrowsAndReportsADecreasePerTopic) {
  auto client = admin_client(plaintext());
  const auto grows = testenv::unique_name("outflow.it.grow");
  const auto shrinks = testenv::unique_name("outflow.it.shrink");
  const auto missing = testenv::unique_name("outflow.it.missing");
  create(client.get(), grows, 2);
  create(client.get(), shrinks, 3);
  describe_when_present(client.get(), grows);
  describe_when_present(client.get(), shrinks);

  // One request; each topic's fate is its own.
  const auto outcomes =
      kafka::create_partitions(client.get(), {{grows, 5}, {shrinks, 1}, {missing, 4}}, 30s);
  ASSERT_EQ(outcomes.size(), 3u);
  ASSERT_NE(outcome_for(outcomes, grows), nullptr);
  EXPECT_TRUE(outcome_for(outcomes, grows)->ok()) << outcome_for(outcomes, grows)->message;
  ASSERT_NE(outcome_for(outcomes, shrinks), nullptr);
  EXPECT_EQ(outcome_for(outcomes, shrinks)->error, RD_KAFKA_RESP_ERR_INVALID_PARTITIONS);
  EXPECT_FALSE(outcome_for(outcomes, shrinks)->message.empty());
  ASSERT_NE(outcome_for(outcomes, missing), nullptr);
  EXPECT_EQ(outcome_for(outcomes, missing)->error, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);

  const auto described = describe_until(client.get(), {grows, shrinks}, [&](const auto& d) {
    return d.contains(grows) && d.at(grows).partitions == 5;
  });
  ASSERT_TRUE(described.contains(grows));
  EXPECT_EQ(described.at(grows).partitions, 5);
  ASSERT_TRUE(described.contains(shrinks));
  EXPECT_EQ(described.at(shrinks).partitions, 3);
}

TEST(KafkaAdminConfigs, AlterReplacesTheWholeSetOfOverrides) {
  auto client = admin_client(plaintext());
  const auto topic = testenv::unique_name("outflow.it.alter");
  const auto missing = testenv::unique_name("outflow.it.missing");
  create(client.get(), topic, 1, {{"retention.ms", "3600000"}, {"cleanup.policy", "compact"}});
  describe_when_present(client.get(), topic);

  const Config wanted = {{"retention.ms", "7200000"}, {"max.message.bytes", "2000000"}};
  const auto outcomes =
      kafka::alter_topic_configs(client.get(), {{topic, wanted}, {missing, wanted}}, 30s);
  ASSERT_EQ(outcomes.size(), 2u);
  ASSERT_NE(outcome_for(outcomes, topic), nullptr);
  EXPECT_TRUE(outcome_for(outcomes, topic)->ok()) << outcome_for(outcomes, topic)->message;
  ASSERT_NE(outcome_for(outcomes, missing), nullptr);
  EXPECT_FALSE(outcome_for(outcomes, missing)->ok());

  // cleanup.policy was not in the new set: it is back to the broker default.
  const auto described = describe_until(client.get(), {topic}, [&](const auto& d) {
    return d.contains(topic) && d.at(topic).dynamic_config == wanted;
  });
  ASSERT_TRUE(described.contains(topic));
  EXPECT_EQ(described.at(topic).dynamic_config, wanted);

  // An empty set clears every override.
  const auto cleared = kafka::alter_topic_configs(client.get(), {{topic, {}}}, 30s);
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_TRUE(cleared[0].ok()) << cleared[0].message;
  const auto after = describe_until(client.get(), {topic}, [&](const auto& d) {
    return d.contains(topic) && d.at(topic).dynamic_config.empty();
  });
  ASSERT_TRUE(after.contains(topic));
  EXPECT_TRUE(after.at(topic).dynamic_config.empty());
}

TEST(KafkaAdminDelete, DeletesAndADeletedTopicCountsAsDeleted) {
  auto client = admin_client(plaintext());
  const auto topic = testenv::unique_name("outflow.it.delete");
  create(client.get(), topic, 1);
  describe_when_present(client.get(), topic);

  const auto first = kafka::delete_topics(client.get(), {topic}, 30s);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].name, topic);
  EXPECT_TRUE(first[0].ok()) << first[0].message;
  const auto described =
      describe_until(client.get(), {topic}, [&](const auto& d) { return !d.contains(topic); });
  EXPECT_FALSE(described.contains(topic));

  // A retried deletion converges instead of failing.
  const auto again = kafka::delete_topics(client.get(), {topic}, 30s);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].ok()) << again[0].error << " " << again[0].message;
  EXPECT_TRUE(again[0].message.empty());
}

TEST(KafkaAdminClusterId, IsNonEmptyAndStable) {
  auto one = admin_client(plaintext());
  auto other = admin_client(plaintext());
  const auto id = kafka::cluster_id(one.get(), 10s);
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(kafka::cluster_id(one.get(), 10s), id);
  EXPECT_EQ(kafka::cluster_id(other.get(), 10s), id);
}

TEST(KafkaAdminErrors, ExistingCallerStillCatchesRuntimeError) {
  auto client = admin_client(plaintext());
  // librdkafka refuses a negative partition count (other than -1, "broker
  // default") before sending anything.
  const auto topic = testenv::unique_name("outflow.it.zero");
  try {
    kafka::create_topics(client.get(), {{topic, -2, 1, {}}}, 10s);
    FAIL() << "expected AdminError";
  } catch (const kafka::AdminError& e) {
    EXPECT_EQ(e.code(), RD_KAFKA_RESP_ERR__INVALID_ARG) << e.what();
    EXPECT_NE(std::string(e.what()).find(topic), std::string::npos) << e.what();
  }
  EXPECT_THROW(kafka::create_topics(client.get(), {{topic, -2, 1, {}}}, 10s), std::runtime_error);
}

// What the operator sees when no broker answers: every call throws AdminError
// with a transport or timeout code, in about the timeout it was given.
TEST(KafkaAdminErrors, UnreachableClusterThrowsAdminErrorWithinTheTimeout) {
  kafka::ConnectionSettings settings;
  settings.bootstrap_servers = {"127.0.0.1:1"};  // nothing listens on port 1
  settings.connect_timeout_ms = 1000;
  auto client = admin_client(settings);
  const auto timeout = 2s;
  const std::set<rd_kafka_resp_err_t> expected = {RD_KAFKA_RESP_ERR__TRANSPORT,
                                                   RD_KAFKA_RESP_ERR__TIMED_OUT,
                                                   RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN};

  const std::map<std::string, std::function<void()>> calls = {
      {"describe_topics", [&] { kafka::describe_topics(client.get(), {"t"}, timeout); }},
      {"describe_topic_layout", [&] { kafka::describe_topic_layout(client.get(), "t", timeout); }},
      {"create_topics", [&] { kafka::create_topics(client.get(), {{"t", 1, 1, {}}}, timeout); }},
      {"create_partitions", [&] { kafka::create_partitions(client.get(), {{"t", 2}}, timeout); }},
      {"alter_topic_configs",
       [&] { kafka::alter_topic_configs(client.get(), {{"t", {}}}, timeout); }},
      {"delete_topics", [&] { kafka::delete_topics(client.get(), {"t"}, timeout); }},
      {"cluster_id", [&] { kafka::cluster_id(client.get(), timeout); }},
  };
  for (const auto& [name, call] : calls) {
    const auto start = std::chrono::steady_clock::now();
    try {
      call();
      ADD_FAILURE() << name << ": expected AdminError";
    } catch (const kafka::AdminError& e) {
      const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      EXPECT_TRUE(expected.contains(e.code())) << name << ": " << rd_kafka_err2name(e.code()) << " "
                                               << e.what();
      EXPECT_LT(took, timeout + 3s) << name;
      // The numbers the operator author relies on, visible in the test log.
      std::cout << name << ": " << rd_kafka_err2name(e.code()) << " after " << took.count()
                << " ms: " << e.what() << "\n";
    }
  }
}

// The operator's way to connect: CA, certificate and key as PEM text read
// from Secrets, nothing on disk.
TEST(KafkaAdminTls, MutualTlsWithInMemoryPemOnly) {
  kafka::ConnectionSettings settings;
  settings.bootstrap_servers = {testenv::require("OUTFLOW_TEST_KAFKA_SSL")};
  settings.tls = kafka::TlsSettings{};
  settings.tls->ca_pem = testenv::require_file("OUTFLOW_TEST_KAFKA_CA");
  settings.tls->cert_pem = testenv::require_file("OUTFLOW_TEST_KAFKA_CLIENT_CERT");
  settings.tls->key_pem = testenv::require_file("OUTFLOW_TEST_KAFKA_CLIENT_KEY");
  auto client = admin_client(settings);
  EXPECT_FALSE(kafka::cluster_id(client.get(), 15s).empty());

  const auto topic = testenv::unique_name("outflow.it.pem.mtls");
  create(client.get(), topic, 2);
  const auto described = describe_when_present(client.get(), topic);
  ASSERT_TRUE(described.contains(topic));
  EXPECT_EQ(described.at(topic).partitions, 2);
}

// A CA bundle in a Secret often holds several certificates (rotation); the
// one that signed the broker is not first here. librdkafka before 2.0 read
// only the first certificate of ssl.ca.pem.
TEST(KafkaAdminTls, SaslSslWithInMemoryCaBundle) {
  // Self-signed, unrelated to the test environment; public, no key kept.
  const std::string unrelated_ca =
      "-----BEGIN CERTIFICATE-----\n"
      "MIIBnjCCAUWgAwIBAgIUPdasideW51gX6rkfuVvKEMvVbW0wCgYIKoZIzj0EAwIw\n"
      "JDEiMCAGA1UEAwwZb3V0Zmxvdy10ZXN0LXVucmVsYXRlZC1jYTAgFw0yNjExMjMy\n"
      "MjA1MDVaGA8yMTI2MTAzMDIyMDUwNVowJDEiMCAGA1UEAwwZb3V0Zmxvdy10ZXN0\n"
      "LXVucmVsYXRlZC1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABPqmhET9gGW5\n"
      "Ws7DCsK2x7LoFkP+7D4egtiVkogOFlToSpsVQwOOBbvK2t7Owb9Jhdf/zRmp7VzL\n"
      "q7tFwL8FI3SjUzBRMB0GA1UdDgQWBBQ5ZO2QXf0x2kA9HWCPDnwx8a8yjzAfBgNV\n"
      "HSMEGDAWgBQ5ZO2QXf0x2kA9HWCPDnwx8a8yjzAPBgNVHRMBAf8EBTADAQH/MAoG\n"
      "CCqGSM49BAMCA0cAMEQCIC/7oy/wGy3tXSnwSf5klMCpomSZJYO3+0QX3Tvv0xb/\n"
      "AiA07tcYM19yxWb5zfiSGPl0siUtaJprdxm3JBOhu6etmQ==\n"
      "-----END CERTIFICATE-----\n";
  kafka::ConnectionSettings settings;
  settings.bootstrap_servers = {testenv::require("OUTFLOW_TEST_KAFKA_SASL_SSL")};
  settings.tls = kafka::TlsSettings{};
  settings.tls->ca_pem = unrelated_ca + testenv::require_file("OUTFLOW_TEST_KAFKA_CA");
  settings.sasl = kafka::SaslSettings{kafka::SaslMechanism::ScramSha512,
                                      testenv::require("OUTFLOW_TEST_KAFKA_SCRAM512_USER"),
                                      testenv::require("OUTFLOW_TEST_KAFKA_SCRAM512_PASSWORD")};
  auto client = admin_client(settings);
  EXPECT_FALSE(kafka::cluster_id(client.get(), 15s).empty());

  const auto topic = testenv::unique_name("outflow.it.pem.sasl");
  create(client.get(), topic, 1);
  EXPECT_TRUE(describe_when_present(client.get(), topic).contains(topic));
}
