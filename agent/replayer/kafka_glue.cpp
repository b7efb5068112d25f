#include "agent/replayer/kafka_glue.h"

#include <cstdint>
#include <optional>

namespace outflow::agent::replayer {

namespace {
// The eventfd counter is 8 bytes; librdkafka writes exactly this payload.
constexpr std::uint64_t kWakePayload = 1;
}  // namespace

TopicPartition source_of(const rd_kafka_message_t* m) { return {rd_kafka_topic_name(m->rkt), m->partition}; }

Headers headers_of(const rd_kafka_message_t* m) {
  Headers out;
  rd_kafka_headers_t* raw = nullptr;
  // Borrowed: the message keeps ownership.
  if (rd_kafka_message_headers(m, &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  for (std::size_t i = 0; rd_kafka_header_get_all(raw, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    out.push_back({name, value ? std::optional<std::string>(std::string(static_cast<const char*>(value), size))
                               : std::nullopt});
  }
  return out;
}

kafka::HeadersHandle to_kafka(const Headers& headers) {
  kafka::HeadersHandle out(rd_kafka_headers_new(headers.size()));
  for (const auto& h : headers) {
    rd_kafka_header_add(out.get(), h.name.data(), static_cast<ssize_t>(h.name.size()),
                        h.value ? h.value->data() : nullptr, h.value ? static_cast<ssize_t>(h.value->size()) : 0);
  }
  return out;
}

kafka::PartitionListHandle one_partition(const TopicPartition& tp, std::int64_t offset) {
  kafka::PartitionListHandle list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
  return list;
}

void attach(rd_kafka_queue_t* queue, const EventFd& wake) {
  rd_kafka_queue_io_event_enable(queue, wake.fd(), &kWakePayload, sizeof kWakePayload);
}

rd_kafka_resp_err_t commit_positions(rd_kafka_t* consumer, const std::vector<CommitPosition>& positions, bool sync) {
  if (positions.empty()) return RD_KAFKA_RESP_ERR_NO_ERROR;
  kafka::PartitionListHandle list(rd_kafka_topic_partition_list_new(static_cast<int>(positions.size())));
  for (const auto& p : positions) {
    rd_kafka_topic_partition_list_add(list.get(), p.partition.topic.c_str(), p.partition.partition)->offset = p.offset;
  }
  return rd_kafka_commit(consumer, list.get(), sync ? 0 : 1);
}

}  // namespace outflow::agent::replayer
