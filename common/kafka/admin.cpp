#include "common/kafka/admin.h"

#include "common/kafka/handles.h"

#include <fmt/format.h>

#include <array>
#include <stdexcept>

namespace outflow::kafka {

std::vector<TopicOutcome> create_topics(rd_kafka_t* client, const std::vector<NewTopic>& topics,
                                        std::chrono::milliseconds timeout) {
  if (topics.empty()) return {};
  std::array<char, 512> err{};
  std::vector<NewTopicHandle> owned;
  std::vector<rd_kafka_NewTopic_t*> raw;
  for (const auto& t : topics) {
    NewTopicHandle nt(rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, t.replication_factor,
                                            err.data(), err.size()));
    if (!nt) throw std::runtime_error(fmt::format("topic {}: {}", t.name, err.data()));
    for (const auto& [key, value] : t.config) {
      if (auto e = rd_kafka_NewTopic_set_config(nt.get(), key.c_str(), value.c_str())) {
        throw std::runtime_error(
            fmt::format("topic {} config {}: {}", t.name, key, rd_kafka_err2str(e)));
      }
    }
    raw.push_back(nt.get());
    owned.push_back(std::move(nt));
  }

  AdminOptionsHandle options(rd_kafka_AdminOptions_new(client, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  const int timeout_ms = static_cast<int>(timeout.count());
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, err.data(),
                                                err.size()) ||
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, err.data(),
                                                  err.size())) {
    throw std::runtime_error(fmt::format("admin options: {}", err.data()));
  }

  QueueHandle queue(rd_kafka_queue_new(client));
  rd_kafka_CreateTopics(client, raw.data(), raw.size(), options.get(), queue.get());
  // The result arrives on our queue; wait a little longer than the request itself.
  EventHandle event(rd_kafka_queue_poll(queue.get(), timeout_ms + 5000));
  if (!event) throw std::runtime_error("CreateTopics: no result before the timeout");
  if (rd_kafka_event_error(event.get())) {
    throw std::runtime_error(
        fmt::format("CreateTopics failed: {}", rd_kafka_event_error_string(event.get())));
  }
  const auto* result = rd_kafka_event_CreateTopics_result(event.get());
  size_t count = 0;
  const auto* results = rd_kafka_CreateTopics_result_topics(result, &count);
  std::vector<TopicOutcome> outcomes;
  outcomes.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const char* message = rd_kafka_topic_result_error_string(results[i]);
    outcomes.push_back({rd_kafka_topic_result_name(results[i]),
                        rd_kafka_topic_result_error(results[i]), message ? message : ""});
  }
  return outcomes;
}

std::optional<TopicLayout> describe_topic_layout(rd_kafka_t* client, const std::string& topic,
                                                 std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  // all_topics=1 so that asking never auto-creates the topic on brokers that allow it.
  const auto err = rd_kafka_metadata(client, 1, nullptr, &raw, static_cast<int>(timeout.count()));
  if (err) throw std::runtime_error(fmt::format("metadata: {}", rd_kafka_err2str(err)));
  MetadataHandle metadata(raw);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& t = metadata->topics[i];
    if (topic != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return std::nullopt;
    if (t.err) {
      throw std::runtime_error(fmt::format("metadata for {}: {}", topic, rd_kafka_err2str(t.err)));
    }
    return TopicLayout{t.topic, t.partition_cnt, t.partition_cnt > 0 ? t.partitions[0].replica_cnt : 0};
  }
  return std::nullopt;
}

}  // namespace outflow::kafka
