#include "agent/replayer/replayer_fixture.h"

#include "agent/outbox_fixture.h"
#include "common/kafka/admin.h"
#include "operator/topics/desired_topics.h"
#include "testenv.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <stdexcept>
#include <thread>

namespace outflow::testenv {

using agent::replayer::Headers;

pipeline::PipelineSpec create_replay_pipeline(int max_attempts, std::int64_t initial_ms, int multiplier,
                                              std::int64_t max_ms, int dlq_partitions,
                                              const ExtraTopicConfig& extra_config) {
  const auto prefix = unique_name("replay");
  pipeline::PipelineSpec spec;
  spec.topics = {{prefix + "-orders", 2, 1, {}}, {prefix + "-payments", 1, 1, {}}};
  spec.outbox.default_topic = prefix + "-orders";
  pipeline::DeadLetterSpec d;
  d.topic = prefix + "-dlq";
  d.max_attempts = max_attempts;
  d.backoff = {initial_ms, multiplier, max_ms};
  d.partitions = dlq_partitions;
  spec.dead_letter = d;

  // The operator's plan, so the test breaks if the replayer expects a topic
  // the operator would not create.
  std::vector<kafka::NewTopic> topics;
  for (const auto& t : op::topics::desired_topics(spec)) {
    topics.push_back({t.name, t.partitions, t.replication_factor, t.config});
    if (extra_config) {
      for (auto& [name, value] : extra_config(t.name)) topics.back().config[name] = value;
    }
  }
  auto client = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf(kafka::client_properties(plaintext_kafka())));
  for (const auto& outcome : kafka::create_topics(client.get(), topics, std::chrono::seconds(30))) {
    if (!outcome.ok()) throw std::runtime_error("cannot create " + outcome.name + ": " + outcome.message);
  }
  // A broker learns of a new topic a moment after the controller.
  for (const auto& t : topics) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!kafka::describe_topic_layout(client.get(), t.name, std::chrono::seconds(5)) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return spec;
}

bool topic_exists(const std::string& topic) {
  auto props = kafka::client_properties(plaintext_kafka());
  props.push_back({"allow.auto.create.topics", "false"});
  auto client = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf(props));
  // Every topic's metadata: a request naming no topic creates none.
  return kafka::describe_topics(client.get(), {topic}, std::chrono::seconds(10)).contains(topic);
}

struct TestProducer::State {
  kafka::ClientHandle client;
  std::atomic<int> pending{0};
  std::atomic<int> failed{0};
  std::string last_error;
};

TestProducer::TestProducer() : state_(std::make_unique<State>()) {
  auto props = kafka::client_properties(plaintext_kafka());
  props.push_back({"enable.idempotence", "true"});
  props.push_back({"linger.ms", "5"});
  // Dead letters bigger than a producer's default limit, for the tests of
  // what the replayer does with them.
  props.push_back({"message.max.bytes", "10000000"});
  auto conf = kafka::make_conf(props);
  rd_kafka_conf_set_opaque(conf.get(), state_.get());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* s = static_cast<State*>(opaque);
    if (m->err) {
      ++s->failed;
      s->last_error = rd_kafka_err2str(m->err);
    }
    --s->pending;
  });
  state_->client = kafka::make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

TestProducer::~TestProducer() = default;

void TestProducer::send(const std::string& topic, const std::optional<std::string>& key, const std::string& value,
                        const Headers& headers, std::int64_t timestamp_ms) {
  kafka::HeadersHandle h(rd_kafka_headers_new(headers.size()));
  for (const auto& header : headers) {
    rd_kafka_header_add(h.get(), header.name.data(), static_cast<ssize_t>(header.name.size()),
                        header.value ? header.value->data() : nullptr,
                        header.value ? static_cast<ssize_t>(header.value->size()) : 0);
  }
  const void* key_data = key ? key->data() : nullptr;
  const std::size_t key_size = key ? key->size() : 0;
  void* value_data = const_cast<char*>(value.data());
  const std::size_t value_size = value.size();
  for (;;) {
    const auto err = rd_kafka_producev(state_->client.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                       RD_KAFKA_V_KEY(key_data, key_size), RD_KAFKA_V_VALUE(value_data, value_size),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h.get()),
                                       RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
    rd_kafka_poll(state_->client.get(), 100);
  }
  (void)h.release();
  ++state_->pending;
  rd_kafka_poll(state_->client.get(), 0);
}

void TestProducer::flush() {
  rd_kafka_flush(state_->client.get(), 30000);
  if (state_->pending != 0 || state_->failed != 0) {
    throw std::runtime_error("test producer: " + std::to_string(state_->failed.load()) + " failed, " +
                             std::to_string(state_->pending.load()) + " unacknowledged: " + state_->last_error);
  }
}

std::vector<Record> read_all(const std::string& topic) {
  auto props = kafka::client_properties(plaintext_kafka());
  props.push_back({"group.id", unique_name("reader")});
  props.push_back({"enable.auto.commit", "false"});
  props.push_back({"enable.partition.eof", "false"});
  auto consumer = kafka::make_client(RD_KAFKA_CONSUMER, kafka::make_conf(props));
  auto layout = kafka::describe_topic_layout(consumer.get(), topic, std::chrono::seconds(10));
  if (!layout) throw std::runtime_error("topic " + topic + " is unknown");

  kafka::PartitionListHandle assignment(rd_kafka_topic_partition_list_new(layout->partitions));
  std::vector<std::int64_t> end(static_cast<std::size_t>(layout->partitions), 0);
  std::size_t remaining = 0;
  for (int p = 0; p < layout->partitions; ++p) {
    std::int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), p, &low, &high, 10000)) {
      throw std::runtime_error("watermarks of " + topic + " unknown");
    }
    end[static_cast<std::size_t>(p)] = high;
    if (high > low) {
      rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
      ++remaining;
    }
  }
  std::vector<Record> out;
  if (remaining == 0) return out;
  rd_kafka_assign(consumer.get(), assignment.get());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::vector<bool> done(end.size(), false);
  while (remaining > 0 && std::chrono::steady_clock::now() < deadline) {
    kafka::MessageHandle m(rd_kafka_consumer_poll(consumer.get(), 200));
    if (!m || m->err) continue;
    Record r;
    r.topic = topic;
    r.partition = m->partition;
    r.offset = m->offset;
    if (m->key) r.key = std::string(static_cast<const char*>(m->key), m->key_len);
    r.value = std::string(static_cast<const char*>(m->payload), m->len);
    r.timestamp_ms = rd_kafka_message_timestamp(m.get(), nullptr);
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(m.get(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name = nullptr;
      const void* value = nullptr;
      std::size_t size = 0;
      for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i) {
        r.headers.push_back({name, value ? std::optional<std::string>(std::string(static_cast<const char*>(value), size))
                                         : std::nullopt});
      }
    }
    const auto p = static_cast<std::size_t>(m->partition);
    out.push_back(std::move(r));
    if (!done[p] && m->offset + 1 >= end[p]) {
      done[p] = true;
      --remaining;
    }
  }
  rd_kafka_consumer_close(consumer.get());
  if (remaining > 0) throw std::runtime_error("could not read all of " + topic);
  return out;
}

bool group_caught_up(const std::string& group, const std::vector<std::string>& topics) {
  auto props = kafka::client_properties(plaintext_kafka());
  // Same group id, never subscribed: OffsetFetch only, no JoinGroup, so the
  // replayer's assignment is not disturbed.
  props.push_back({"group.id", group});
  props.push_back({"enable.auto.commit", "false"});
  auto consumer = kafka::make_client(RD_KAFKA_CONSUMER, kafka::make_conf(props));
  for (const auto& topic : topics) {
    const auto layout = kafka::describe_topic_layout(consumer.get(), topic, std::chrono::seconds(10));
    if (!layout) return false;
    kafka::PartitionListHandle list(rd_kafka_topic_partition_list_new(layout->partitions));
    for (int p = 0; p < layout->partitions; ++p) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
    if (rd_kafka_committed(consumer.get(), list.get(), 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    for (int i = 0; i < list->cnt; ++i) {
      std::int64_t low = 0, high = 0;
      if (rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), list->elems[i].partition, &low, &high,
                                           10000)) {
        return false;
      }
      if (high > low && list->elems[i].offset < high) return false;
    }
  }
  rd_kafka_consumer_close(consumer.get());
  return true;
}

agent::replayer::ReplayerSettings replayer_settings(const pipeline::PipelineSpec& spec, const std::string& group) {
  agent::replayer::ReplayerSettings s;
  s.pipeline = {"test", group, "uid"};
  s.spec = spec;
  s.kafka = plaintext_kafka();
  s.group_id = group;
  s.commit_interval = std::chrono::milliseconds(200);
  // The broker's group.min.session.timeout.ms: a replica the test abandons is
  // noticed as soon as Kafka allows.
  s.session_timeout = std::chrono::milliseconds(6000);
  s.metadata_refresh = std::chrono::milliseconds(5000);
  return s;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace outflow::testenv
