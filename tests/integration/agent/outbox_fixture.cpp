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

namespace {

// The message as a test sees it; `into` is reused so that a long read does
// not allocate a header map per message.
void fill(const rd_kafka_message_t& message, Consumed& into) {
  into.partition = message.partition;
  into.offset = message.offset;
  into.key.reset();
  if (message.key) into.key = std::string(static_cast<const char*>(message.key), message.key_len);
  into.value.assign(static_cast<const char*>(message.payload), message.len);
  into.timestamp_ms = rd_kafka_message_timestamp(&message, nullptr);
  into.headers.clear();
  rd_kafka_headers_t* headers = nullptr;
  // The message keeps ownership of its headers. A name given twice keeps its last value.
  if (rd_kafka_message_headers(&message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      into.headers[name] =
          value ? std::optional<std::string>(std::string(static_cast<const char*>(value), size)) : std::nullopt;
    }
  }
}

}  // namespace

TopicRead read_topic_each(const std::string& topic, std::optional<std::size_t> expected,
                          std::chrono::milliseconds timeout, const std::function<void(const Consumed&)>& each) {
  const auto started = std::chrono::steady_clock::now();
  auto props = kafka::client_properties(plaintext_kafka());
  props.push_back({"group.id", unique_name("reader")});
  props.push_back({"enable.auto.commit", "false"});
  props.push_back({"enable.partition.eof", "false"});
  // Only what producers committed: what a careful downstream service sees.
  props.push_back({"isolation.level", "read_committed"});
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
  const int partitions = metadata->topics[0].partition_cnt;
  // Read to the end: where each partition ends now, and how far it was read.
  std::vector<std::int64_t> end(static_cast<std::size_t>(partitions), 0);
  std::vector<std::int64_t> next(static_cast<std::size_t>(partitions), 0);
  kafka::PartitionListHandle assignment(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    if (!expected) {
      std::int64_t low = 0, high = 0;
      const auto e = rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), p, &low, &high, 10000);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw std::runtime_error("end offset of " + topic + "/" + std::to_string(p) + ": " + rd_kafka_err2str(e));
      }
      end[static_cast<std::size_t>(p)] = high;
      next[static_cast<std::size_t>(p)] = low;
    }
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(consumer.get(), assignment.get());

  const auto read_to_end = [&] {
    for (int p = 0; p < partitions; ++p) {
      if (next[static_cast<std::size_t>(p)] < end[static_cast<std::size_t>(p)]) return false;
    }
    return true;
  };
  const auto done = [&](std::size_t messages) { return expected ? messages >= *expected : read_to_end(); };
  TopicRead read;
  Consumed consumed;
  const auto deadline = started + timeout;
  while (!done(read.messages) && std::chrono::steady_clock::now() < deadline) {
    kafka::MessageHandle message(rd_kafka_consumer_poll(consumer.get(), 100));
    if (!message) {
      // Control records (transaction markers) are never handed out: the
      // fetch position is what says a partition was read to its end.
      if (!expected && rd_kafka_position(consumer.get(), assignment.get()) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < assignment->cnt; ++i) {
          const auto& at = assignment->elems[i];
          auto& n = next[static_cast<std::size_t>(at.partition)];
          if (at.offset >= 0 && at.offset > n) n = at.offset;
        }
      }
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    ++read.messages;
    next[static_cast<std::size_t>(message->partition)] = message->offset + 1;
    fill(*message, consumed);
    each(consumed);
  }
  read.complete = done(read.messages);
  rd_kafka_consumer_close(consumer.get());
  read.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return read;
}

std::vector<Consumed> read_topic(const std::string& topic, std::size_t expected, std::chrono::milliseconds timeout) {
  std::vector<Consumed> out;
  read_topic_each(topic, expected, timeout, [&](const Consumed& c) { out.push_back(c); });
  return out;
}

std::vector<Consumed> read_whole_topic(const std::string& topic, std::chrono::milliseconds timeout) {
  std::vector<Consumed> out;
  const auto read = read_topic_each(topic, std::nullopt, timeout, [&](const Consumed& c) { out.push_back(c); });
  if (!read.complete) {
    throw std::runtime_error("topic " + topic + " was not read to its end within " +
                             std::to_string(timeout.count()) + " ms (" + std::to_string(out.size()) + " messages)");
  }
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
