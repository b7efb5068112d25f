#include "agent/publisher/kafka_producer.h"

#include "agent/publisher/delivery_outcome.h"
#include "common/kafka/producer_settings.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace outflow::agent::publisher {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::vector<kafka::Property> publisher_producer_properties(const kafka::ConnectionSettings& settings,
                                                           const ProducerBounds& bounds) {
  auto properties = kafka::producer_properties(settings);
  const std::vector<kafka::Property> publisher = {
      // Later settings win in librdkafka: these replace the shared ones.
      {"message.timeout.ms", "0"},
      {"enable.gapless.guarantee", "true"},
      // One produce request per broker at a time. With more, a partition
      // that has not seen the producer can refuse the first batch as not its
      // leader and take the next, and librdkafka reports the first delivered
      // too ("implicitly acked", with no offset, and nowhere in the topic:
      // kafka_producer_test.cpp). The drain window keeps PostgreSQL and Kafka
      // busy at once without it: measured, the same drain rate and latency.
      {"max.in.flight.requests.per.connection", "1"},
      {"batch.size", std::to_string(bounds.batch_bytes)},
      {"message.max.bytes", std::to_string(bounds.message_max_bytes)},
  };
  properties.insert(properties.end(), publisher.begin(), publisher.end());
  return properties;
}

KafkaProducer::KafkaProducer(const kafka::ConnectionSettings& settings, const std::vector<std::string>& topics,
                             const ProducerBounds& bounds, ReportSink on_report)
    : on_report_(std::move(on_report)), bounds_(bounds) {
  auto conf = kafka::make_conf(publisher_producer_properties(settings, bounds));
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaProducer::on_delivery);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaProducer::on_error);
  client_ = kafka::make_client(RD_KAFKA_PRODUCER, std::move(conf));
  // librdkafka asks for a topic's metadata on the first produce to it and
  // then only on its 1 s timer, which would delay every start and failover
  // by a second. A handle per declared topic makes it ask now.
  for (const auto& topic : topics) {
    topics_.emplace_back(rd_kafka_topic_new(client_.get(), topic.c_str(), nullptr));
  }
}

KafkaProducer::~KafkaProducer() {
  // The rows behind anything still queued stay pending: the publisher gave
  // them up before replacing this producer. Purging both queues means no
  // later message of a partition can go out after an earlier one was dropped.
  on_report_ = nullptr;
  if (client_) {
    rd_kafka_purge(client_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(client_.get(), 0);
  }
  topics_.clear();
}

void KafkaProducer::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* self = static_cast<KafkaProducer*>(opaque);
  if (!self->on_report_) return;
  const auto token = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(message->_private));
  self->on_report_(token, delivery_outcome(message->err, message->offset, now_ms()));
}

void KafkaProducer::on_error(rd_kafka_t* client, int code, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaProducer*>(opaque);
  const auto error = static_cast<rd_kafka_resp_err_t>(code);
  self->last_error_ = fmt::format("Kafka: {}", reason ? reason : rd_kafka_err2str(error));
  if (error == RD_KAFKA_RESP_ERR__FATAL) {
    char detail[512] = {0};
    self->fatal_cause_ = rd_kafka_fatal_error(client, detail, sizeof detail);
    self->fatal_ = true;
    self->last_error_ = fmt::format("Kafka producer stopped for good: {}", detail);
    spdlog::warn("{}", self->last_error_);
    return;
  }
  if (error == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    spdlog::warn("{}", self->last_error_);
    ++self->all_brokers_down_;
    return;
  }
  // Single connections come and go (idle reaping, a broker restarting);
  // librdkafka retries them itself.
  spdlog::debug("{}", self->last_error_);
}

int KafkaProducer::take_all_brokers_down() {
  const int n = all_brokers_down_;
  all_brokers_down_ = 0;
  return n;
}

void KafkaProducer::poll(std::chrono::milliseconds timeout) {
  rd_kafka_poll(client_.get(), static_cast<int>(timeout.count()));
}

void KafkaProducer::stop_waiting() { rd_kafka_yield(client_.get()); }

void KafkaProducer::flush(std::chrono::milliseconds timeout) {
  // flush, not poll: the batch is queued whole, so waiting out linger.ms for
  // more would only add latency; flush sends at once and serves the reports.
  rd_kafka_flush(client_.get(), static_cast<int>(timeout.count()));
}

bool KafkaProducer::reachable(std::chrono::milliseconds timeout) {
  if (topics_.empty()) return false;
  const rd_kafka_metadata_t* raw = nullptr;
  const auto error = rd_kafka_metadata(client_.get(), 0, topics_.front().get(), &raw,
                                       static_cast<int>(timeout.count()));
  kafka::MetadataHandle metadata(raw);
  return error == RD_KAFKA_RESP_ERR_NO_ERROR;
}

std::optional<Outcome> KafkaProducer::send(const OutboxRow& row, const KafkaMessage& message, std::uint64_t token) {
  kafka::HeadersHandle headers(rd_kafka_headers_new(message.headers.size()));
  for (const auto& [name, value] : message.headers) {
    rd_kafka_header_add(headers.get(), name.data(), static_cast<ssize_t>(name.size()),
                        value ? value->data() : nullptr, value ? static_cast<ssize_t>(value->size()) : 0);
  }
  // librdkafka's V_ macros cast their arguments without parentheses.
  const void* key_data = row.key ? row.key->data() : nullptr;
  const std::size_t key_size = row.key ? row.key->size() : 0;
  void* value_data = const_cast<char*>(row.payload.data());
  const std::size_t value_size = row.payload.size();
  void* opaque = reinterpret_cast<void*>(static_cast<std::uintptr_t>(token));
  const auto error = rd_kafka_producev(
      client_.get(), RD_KAFKA_V_TOPIC(message.topic.c_str()), RD_KAFKA_V_KEY(key_data, key_size),
      RD_KAFKA_V_VALUE(value_data, value_size),
      // A copy: a purged producer must not read rows the publisher let go of.
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_OPAQUE(opaque),
      RD_KAFKA_V_END);
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {
    (void)headers.release();  // librdkafka owns them now
    return std::nullopt;
  }
  return enqueue_outcome(error, bounds_.message_max_bytes);
}

}  // namespace outflow::agent::publisher
