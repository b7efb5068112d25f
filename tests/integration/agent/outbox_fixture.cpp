#include "agent/outbox_fixture.h"

#include "common/kafka/admin.h"
#include "kube_helpers.h"
#include "testenv.h"

#include <fmt/format.h>

#include <stdexcept>

namespace outflow::testenv {

OutboxDb::OutboxDb() {
  conn_ = std::make_unique<pg::Connection>(pg::Connection::open(require("OUTFLOW_TEST_PG_URL")));
  schema_ = unique_name("ob");
  for (auto& c : schema_) if (c == '-') c = '_';
  conn_->exec("CREATE SCHEMA " + schema_);
  conn_->exec("SET search_path TO " + schema_);
  conn_->run_script(read_text(source_path("hack/sql/outbox.sql")));
}

OutboxDb::~OutboxDb() {
  try {
    if (conn_ && conn_->ok()) conn_->exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
  } catch (...) {
  }
}

std::int64_t OutboxDb::insert(const std::optional<std::string>& key, const std::string& payload,
                              const std::optional<std::string>& topic,
                              const std::optional<std::string>& headers_json) {
  const auto r = conn_->exec(
      "INSERT INTO outbox (event_id, topic, key, payload, headers) "
      "VALUES (gen_random_uuid(), $1, $2, $3::bytea, $4::jsonb) RETURNING id",
      {{topic}, {key}, {payload, /*binary=*/true}, {headers_json}});
  return std::stoll(std::string(r.value(0, 0)));
}

void OutboxDb::insert_many(int count, int keys, int payload_bytes, int first) {
  conn_->exec(fmt::format("INSERT INTO outbox (event_id, key, payload) "
                          "SELECT gen_random_uuid(), 'k' || (i % {keys}), "
                          "convert_to(i::text || repeat('.', greatest({bytes} - length(i::text), 0)), 'UTF8') "
                          "FROM generate_series({first}, {last}) AS i ORDER BY i",
                          fmt::arg("keys", keys), fmt::arg("bytes", payload_bytes),
                          fmt::arg("first", first), fmt::arg("last", first + count - 1)));
}

void OutboxDb::reconnect() {
  conn_ = std::make_unique<pg::Connection>(pg::Connection::open(require("OUTFLOW_TEST_PG_URL")));
  conn_->exec("SET search_path TO " + schema_);
}

std::int64_t OutboxDb::count(const std::string& where) {
  return std::stoll(std::string(conn_->exec("SELECT count(*) FROM outbox WHERE " + where).value(0, 0)));
}

kafka::ConnectionSettings plaintext_kafka() {
  kafka::ConnectionSettings s;
  s.bootstrap_servers = {require("OUTFLOW_TEST_KAFKA_PLAINTEXT")};
  s.request_timeout_ms = 5000;
  return s;
}

std::string create_topic(int partitions) { return create_topic(unique_name("outbox"), partitions); }

std::string create_topic(const std::string& name, int partitions) {
  auto client = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf(kafka::client_properties(plaintext_kafka())));
  const auto outcomes = kafka::create_topics(client.get(), {{name, partitions, 1, {}}}, std::chrono::seconds(30));
  if (outcomes.size() != 1 || !outcomes[0].ok()) {
    throw std::runtime_error("cannot create topic " + name + ": " + (outcomes.empty() ? "" : outcomes[0].message));
  }
  return name;
}

std::vector<Consumed> read_topic(const std::string& topic, std::size_t expected, std::chrono::milliseconds timeout) {
  auto props = kafka::client_properties(plaintext_kafka());
  props.push_back({"group.id", unique_name("reader")});
  props.push_back({"enable.auto.commit", "false"});
  props.push_back({"enable.partition.eof", "false"});
  auto consumer = kafka::make_client(RD_KAFKA_CONSUMER, kafka::make_conf(props));

  const rd_kafka_metadata_t* raw = nullptr;
  auto* handle = rd_kafka_topic_new(consumer.get(), topic.c_str(), nullptr);
  const auto err = rd_kafka_metadata(consumer.get(), 0, handle, &raw, 10000);
  rd_kafka_topic_destroy(handle);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error("metadata for " + topic + " failed");
  kafka::MetadataHandle metadata(raw);
  if (metadata->topic_cnt != 1 || metadata->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("topic " + topic + " is unknown");
  }
  kafka::PartitionListHandle assignment(rd_kafka_topic_partition_list_new(metadata->topics[0].partition_cnt));
  for (int p = 0; p < metadata->topics[0].partition_cnt; ++p) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(consumer.get(), assignment.get());

  std::vector<Consumed> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
    kafka::MessageHandle message(rd_kafka_consumer_poll(consumer.get(), 100));
    if (!message || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    Consumed c;
    c.partition = message->partition;
    c.offset = message->offset;
    if (message->key) c.key = std::string(static_cast<const char*>(message->key), message->key_len);
    c.value = std::string(static_cast<const char*>(message->payload), message->len);
    c.timestamp_ms = rd_kafka_message_timestamp(message.get(), nullptr);
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(message.get(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name = nullptr;
      const void* value = nullptr;
      size_t size = 0;
      for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        c.headers[name] = value ? std::optional<std::string>(std::string(static_cast<const char*>(value), size))
                                : std::nullopt;
      }
    }
    out.push_back(std::move(c));
  }
  rd_kafka_consumer_close(consumer.get());
  return out;
}

void produce(const std::string& topic, const std::vector<Outgoing>& messages) {
  auto producer = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf(kafka::client_properties(plaintext_kafka())));
  for (const auto& m : messages) {
    kafka::HeadersHandle h(rd_kafka_headers_new(m.headers.size()));
    for (const auto& [name, v] : m.headers) {
      rd_kafka_header_add(h.get(), name.c_str(), -1, v.data(), static_cast<ssize_t>(v.size()));
    }
    // librdkafka's V_ macros cast their arguments without parentheses.
    const void* key_data = m.key ? m.key->data() : nullptr;
    const std::size_t key_size = m.key ? m.key->size() : 0;
    void* value_data = const_cast<char*>(m.value.data());
    const std::size_t value_size = m.value.size();
    rd_kafka_headers_t* raw_headers = h.get();
    const auto err = rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                       RD_KAFKA_V_KEY(key_data, key_size), RD_KAFKA_V_VALUE(value_data, value_size),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(raw_headers),
                                       RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error("produce to " + topic + " failed");
    (void)h.release();
  }
  if (rd_kafka_flush(producer.get(), 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("produce to " + topic + " not acknowledged");
  }
}

void produce(const std::string& topic, const std::optional<std::string>& key, const std::string& value,
             const std::vector<std::pair<std::string, std::string>>& headers) {
  produce(topic, std::vector<Outgoing>{{key, value, headers}});
}

pipeline::PipelineSpec pipeline_for(const std::string& table, const std::string& topic) {
  pipeline::PipelineSpec spec;
  spec.topics.push_back({topic, 1, 1, {}});
  spec.outbox.table = table;
  spec.outbox.default_topic = topic;
  spec.outbox.poll_interval_ms = 1000;
  return spec;
}

}  // namespace outflow::testenv
