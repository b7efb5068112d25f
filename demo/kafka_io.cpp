#include "demo/kafka_io.h"

#include "common/kafka/client_config.h"

#include <fmt/format.h>

#include <stdexcept>

namespace outflow::demo {
namespace {

std::vector<kafka::Property> properties(const std::string& bootstrap) {
  kafka::ConnectionSettings settings;
  settings.bootstrap_servers = {bootstrap};
  settings.request_timeout_ms = 5000;
  return kafka::client_properties(settings);
}

// Each message's outcome lands in the variable its opaque points at.
void record_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  *static_cast<rd_kafka_resp_err_t*>(message->_private) = message->err;
}

}  // namespace

std::optional<std::string> Message::header(const std::string& name) const {
  const auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

TopicReader::TopicReader(const std::string& bootstrap, const std::string& topic,
                         std::chrono::milliseconds metadata_timeout) {
  auto props = properties(bootstrap);
  // A group id is required by the consumer API; nothing is ever committed
  // under it (assign, no subscribe, no auto commit).
  props.push_back({"group.id", "outflow-demo-reader"});
  props.push_back({"enable.auto.commit", "false"});
  props.push_back({"enable.partition.eof", "false"});
  consumer_ = kafka::make_client(RD_KAFKA_CONSUMER, kafka::make_conf(props));

  kafka::TopicHandle handle(rd_kafka_topic_new(consumer_.get(), topic.c_str(), nullptr));
  const rd_kafka_metadata_t* raw = nullptr;
  const auto err = rd_kafka_metadata(consumer_.get(), 0, handle.get(), &raw,
                                     static_cast<int>(metadata_timeout.count()));
  kafka::MetadataHandle metadata(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(fmt::format("cannot read the partitions of {}: {}", topic, rd_kafka_err2str(err)));
  }
  if (metadata->topic_cnt != 1 || metadata->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(fmt::format("topic {} does not exist on {}", topic, bootstrap));
  }
  const int partitions = metadata->topics[0].partition_cnt;
  kafka::PartitionListHandle assignment(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  if (const auto e = rd_kafka_assign(consumer_.get(), assignment.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(fmt::format("cannot read {}: {}", topic, rd_kafka_err2str(e)));
  }
}

TopicReader::~TopicReader() {
  if (consumer_) rd_kafka_consumer_close(consumer_.get());
}

std::optional<Message> TopicReader::next(std::chrono::milliseconds wait) {
  kafka::MessageHandle m(rd_kafka_consumer_poll(consumer_.get(), static_cast<int>(wait.count())));
  if (!m || m->err != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  Message out;
  out.topic = rd_kafka_topic_name(m->rkt);
  out.partition = m->partition;
  out.offset = m->offset;
  if (m->key != nullptr) out.key = std::string(static_cast<const char*>(m->key), m->key_len);
  if (m->payload != nullptr) out.value = std::string(static_cast<const char*>(m->payload), m->len);
  rd_kafka_headers_t* headers = nullptr;  // owned by the message
  if (rd_kafka_message_headers(m.get(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      out.headers[name] = value != nullptr ? std::string(static_cast<const char*>(value), size) : std::string();
    }
  }
  return out;
}

Producer::Producer(const std::string& bootstrap) {
  auto props = properties(bootstrap);
  props.push_back({"acks", "all"});
  auto conf = kafka::make_conf(props);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), record_delivery);
  producer_ = kafka::make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

void Producer::send(const std::string& topic, const std::optional<std::string>& key, const std::string& value,
                    const std::vector<std::pair<std::string, std::string>>& headers) {
  kafka::HeadersHandle h(rd_kafka_headers_new(headers.size()));
  for (const auto& [name, v] : headers) {
    rd_kafka_header_add(h.get(), name.c_str(), -1, v.data(), static_cast<ssize_t>(v.size()));
  }
  // librdkafka's V_ macros cast their arguments without parentheses.
  void* key_data = key ? const_cast<char*>(key->data()) : nullptr;
  const std::size_t key_size = key ? key->size() : 0;
  void* value_data = const_cast<char*>(value.data());
  const std::size_t value_size = value.size();
  rd_kafka_headers_t* raw_headers = h.get();
  auto outcome = RD_KAFKA_RESP_ERR__IN_PROGRESS;
  void* opaque = &outcome;
  const auto err = rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                     RD_KAFKA_V_KEY(key_data, key_size), RD_KAFKA_V_VALUE(value_data, value_size),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(raw_headers),
                                     RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(fmt::format("cannot send to {}: {}", topic, rd_kafka_err2str(err)));
  }
  (void)h.release();  // librdkafka owns the headers once producev succeeded
  if (const auto e = rd_kafka_flush(producer_.get(), 30000); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(fmt::format("{} did not acknowledge within 30 s: {}", topic, rd_kafka_err2str(e)));
  }
  if (outcome != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(fmt::format("{} refused the message: {}", topic, rd_kafka_err2str(outcome)));
  }
}

}  // namespace outflow::demo
