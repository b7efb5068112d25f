// librdkafka against a real KRaft broker: Admin API topic creation, and a
// message round trip over every listener the product supports.

#include "common/kafka/admin.h"
#include "common/kafka/client_config.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

using namespace outflow;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> bootstrap(const char* variable) { return {testenv::require(variable)}; }

kafka::ConnectionSettings plaintext() {
  kafka::ConnectionSettings s;
  s.bootstrap_servers = bootstrap("OUTFLOW_TEST_KAFKA_PLAINTEXT");
  return s;
}

kafka::ConnectionSettings scram(kafka::SaslMechanism mechanism, const char* user_var,
                                const char* password_var) {
  kafka::ConnectionSettings s;
  s.bootstrap_servers = bootstrap("OUTFLOW_TEST_KAFKA_SASL_SSL");
  s.tls = kafka::TlsSettings{testenv::require("OUTFLOW_TEST_KAFKA_CA"), "", ""};
  s.sasl = kafka::SaslSettings{mechanism, testenv::require(user_var), testenv::require(password_var)};
  return s;
}

// Collects what librdkafka reports through its callbacks.
struct Observer {
  std::atomic<int> delivered{0};
  std::atomic<int> failed{0};
  std::mutex mutex;
  std::vector<rd_kafka_resp_err_t> errors;
};

kafka::ClientHandle make(rd_kafka_type_t type, const kafka::ConnectionSettings& settings,
                         Observer& observer, std::vector<kafka::Property> extra = {}) {
  auto props = kafka::client_properties(settings);
  props.insert(props.end(), extra.begin(), extra.end());
  auto conf = kafka::make_conf(props);
  rd_kafka_conf_set_opaque(conf.get(), &observer);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* o = static_cast<Observer*>(opaque);
    (m->err ? o->failed : o->delivered)++;
  });
  rd_kafka_conf_set_error_cb(conf.get(), [](rd_kafka_t*, int err, const char*, void* opaque) {
    auto* o = static_cast<Observer*>(opaque);
    std::lock_guard lock(o->mutex);
    o->errors.push_back(static_cast<rd_kafka_resp_err_t>(err));
  });
  return kafka::make_client(type, std::move(conf));
}

void create_topic(const std::string& name, int partitions) {
  Observer observer;
  auto admin = make(RD_KAFKA_PRODUCER, plaintext(), observer);
  const auto outcomes = kafka::create_topics(admin.get(), {{name, partitions, 1, {}}}, 30s);
  ASSERT_EQ(outcomes.size(), 1u);
  ASSERT_TRUE(outcomes[0].ok()) << outcomes[0].message;
}

struct Received {
  std::string key, value, event_id;
};

// Produces one keyed message with a header, then reads it back with a fresh
// consumer group over the same connection settings.
Received round_trip(const kafka::ConnectionSettings& settings, const std::string& topic) {
  Observer producer_observer;
  auto producer = make(RD_KAFKA_PRODUCER, settings, producer_observer,
                       {{"enable.idempotence", "true"}, {"acks", "all"}});
  const std::string key = "order-42", value = "{\"total\":17}", event_id = "9d3c0b3e-0000-4000-8000-000000000001";
  rd_kafka_headers_t* headers = rd_kafka_headers_new(1);
  rd_kafka_header_add(headers, "outflow-event-id", -1, event_id.data(), static_cast<ssize_t>(event_id.size()));
  const auto err = rd_kafka_producev(
      producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
  if (err) {
    rd_kafka_headers_destroy(headers);  // ownership passes to librdkafka only on success
    throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
  }
  EXPECT_EQ(rd_kafka_flush(producer.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(producer_observer.delivered.load(), 1);
  EXPECT_EQ(producer_observer.failed.load(), 0);

  Observer consumer_observer;
  auto consumer = make(RD_KAFKA_CONSUMER, settings, consumer_observer,
                       {{"group.id", testenv::unique_name("outflow-it-group")},
                        {"auto.offset.reset", "earliest"}, {"enable.auto.commit", "false"}});
  rd_kafka_poll_set_consumer(consumer.get());
  kafka::PartitionListHandle subscription(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto e = rd_kafka_subscribe(consumer.get(), subscription.get())) {
    throw std::runtime_error(std::string("subscribe: ") + rd_kafka_err2str(e));
  }
  Received received;
  const auto deadline = std::chrono::steady_clock::now() + 45s;
  while (std::chrono::steady_clock::now() < deadline) {
    kafka::MessageHandle msg(rd_kafka_consumer_poll(consumer.get(), 500));
    if (!msg || msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    if (msg->err) throw std::runtime_error(std::string("consume: ") + rd_kafka_message_errstr(msg.get()));
    received.key.assign(static_cast<const char*>(msg->key), msg->key_len);
    received.value.assign(static_cast<const char*>(msg->payload), msg->len);
    rd_kafka_headers_t* got = nullptr;
    const void* hv = nullptr;
    size_t hs = 0;
    if (!rd_kafka_message_headers(msg.get(), &got) &&
        !rd_kafka_header_get_last(got, "outflow-event-id", &hv, &hs)) {
      received.event_id.assign(static_cast<const char*>(hv), hs);
    }
    break;
  }
  rd_kafka_consumer_close(consumer.get());
  EXPECT_EQ(received.key, key);
  EXPECT_EQ(received.value, value);
  EXPECT_EQ(received.event_id, event_id);
  return received;
}

}  // namespace

namespace {

// CreateTopics returns once the controller has the topic; a broker's metadata
// cache may learn of it a moment later, so readers poll (bounded).
std::optional<kafka::TopicLayout> await_layout(rd_kafka_t* client, const std::string& topic) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    auto layout = kafka::describe_topic_layout(client, topic, 5s);
    if (layout || std::chrono::steady_clock::now() > deadline) return layout;
    std::this_thread::sleep_for(100ms);
  }
}

}  // namespace

TEST(KafkaAdmin, CreatesATopicWithThreePartitions) {
  const auto topic = testenv::unique_name("outflow.it.admin");
  create_topic(topic, 3);
  Observer observer;
  auto client = make(RD_KAFKA_PRODUCER, plaintext(), observer);
  const auto layout = await_layout(client.get(), topic);
  ASSERT_TRUE(layout.has_value());
  EXPECT_EQ(layout->partitions, 3);
  EXPECT_EQ(layout->replication_factor, 1);

  // Creating it again is reported per topic, not as a failed request.
  const auto again = kafka::create_topics(client.get(), {{topic, 3, 1, {}}}, 30s);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].error, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
  EXPECT_FALSE(kafka::describe_topic_layout(client.get(), topic + ".absent", 10s).has_value());
}

TEST(KafkaRoundTrip, Plaintext) {
  const auto topic = testenv::unique_name("outflow.it.plain");
  create_topic(topic, 3);
  round_trip(plaintext(), topic);
}

TEST(KafkaRoundTrip, SaslSslScramSha512) {
  const auto topic = testenv::unique_name("outflow.it.scram512");
  create_topic(topic, 1);
  round_trip(scram(kafka::SaslMechanism::ScramSha512, "OUTFLOW_TEST_KAFKA_SCRAM512_USER",
                   "OUTFLOW_TEST_KAFKA_SCRAM512_PASSWORD"),
             topic);
}

TEST(KafkaRoundTrip, SaslSslScramSha256) {
  const auto topic = testenv::unique_name("outflow.it.scram256");
  create_topic(topic, 1);
  round_trip(scram(kafka::SaslMechanism::ScramSha256, "OUTFLOW_TEST_KAFKA_SCRAM256_USER",
                   "OUTFLOW_TEST_KAFKA_SCRAM256_PASSWORD"),
             topic);
}

TEST(KafkaRoundTrip, MutualTls) {
  const auto topic = testenv::unique_name("outflow.it.mtls");
  create_topic(topic, 1);
  kafka::ConnectionSettings s;
  s.bootstrap_servers = bootstrap("OUTFLOW_TEST_KAFKA_SSL");
  s.tls = kafka::TlsSettings{testenv::require("OUTFLOW_TEST_KAFKA_CA"),
                             testenv::require("OUTFLOW_TEST_KAFKA_CLIENT_CERT"),
                             testenv::require("OUTFLOW_TEST_KAFKA_CLIENT_KEY")};
  round_trip(s, topic);
}

TEST(KafkaAuthentication, WrongScramPasswordFailsWithAuthenticationError) {
  auto settings = scram(kafka::SaslMechanism::ScramSha512, "OUTFLOW_TEST_KAFKA_SCRAM512_USER",
                        "OUTFLOW_TEST_KAFKA_SCRAM512_PASSWORD");
  settings.sasl->password += "-wrong";
  Observer observer;
  auto client = make(RD_KAFKA_PRODUCER, settings, observer);
  const rd_kafka_metadata_t* metadata = nullptr;
  // The metadata request cannot succeed; the error callback says why.
  EXPECT_NE(rd_kafka_metadata(client.get(), 1, nullptr, &metadata, 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
  if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
  bool authentication_error = false;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!authentication_error && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_poll(client.get(), 200);
    std::lock_guard lock(observer.mutex);
    for (auto e : observer.errors) authentication_error |= (e == RD_KAFKA_RESP_ERR__AUTHENTICATION);
  }
  EXPECT_TRUE(authentication_error);
}
