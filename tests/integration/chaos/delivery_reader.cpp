#include "chaos/delivery_reader.h"

#include "agent/outbox_fixture.h"
#include "agent/publisher/row_check.h"
#include "common/kafka/client_config.h"
#include "common/kafka/handles.h"
#include "testenv.h"

#include <stdexcept>
#include <vector>

namespace outflow::chaos {

ReadSummary read_everything(const std::string& topic, DeliveryCheck& check, std::chrono::milliseconds timeout) {
  const auto started = std::chrono::steady_clock::now();
  auto props = kafka::client_properties(testenv::plaintext_kafka());
  props.push_back({"group.id", testenv::unique_name("chaos-reader")});
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
  std::vector<std::int64_t> end(static_cast<std::size_t>(partitions), 0);
  std::vector<std::int64_t> next(static_cast<std::size_t>(partitions), 0);
  kafka::PartitionListHandle assignment(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = 0, high = 0;
    const auto e = rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), p, &low, &high, 10000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("end offset of " + topic + "/" + std::to_string(p) + ": " + rd_kafka_err2str(e));
    }
    end[static_cast<std::size_t>(p)] = high;
    next[static_cast<std::size_t>(p)] = low;
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(consumer.get(), assignment.get());

  const auto done = [&] {
    for (int p = 0; p < partitions; ++p) {
      if (next[static_cast<std::size_t>(p)] < end[static_cast<std::size_t>(p)]) return false;
    }
    return true;
  };
  ReadSummary summary;
  const auto deadline = started + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    kafka::MessageHandle message(rd_kafka_consumer_poll(consumer.get(), 100));
    if (!message) {
      // Control records (transaction markers) are never handed out: the
      // fetch position is what says a partition was read to its end.
      if (rd_kafka_position(consumer.get(), assignment.get()) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < assignment->cnt; ++i) {
          const auto& at = assignment->elems[i];
          auto& n = next[static_cast<std::size_t>(at.partition)];
          if (at.offset >= 0 && at.offset > n) n = at.offset;
        }
      }
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    ++summary.messages;
    next[static_cast<std::size_t>(message->partition)] = message->offset + 1;
    std::optional<std::string> key;
    if (message->key) key = std::string(static_cast<const char*>(message->key), message->key_len);
    std::optional<std::string> event_id;
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(message.get(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const void* value = nullptr;
      size_t size = 0;
      if (rd_kafka_header_get_last(headers, agent::publisher::kEventIdHeader, &value, &size) ==
              RD_KAFKA_RESP_ERR_NO_ERROR &&
          value != nullptr) {
        event_id = std::string(static_cast<const char*>(value), size);
      }
    }
    check.see(key, std::string_view(static_cast<const char*>(message->payload), message->len), event_id);
  }
  summary.reached_end = done();
  rd_kafka_consumer_close(consumer.get());
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace outflow::chaos
