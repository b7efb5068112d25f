#include "agent/publisher/kafka_producer.h"

#include "common/kafka/producer_settings.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

namespace outflow::agent::publisher {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Extra time past message.timeout.ms before publish() stops waiting for a
// report librdkafka promised; only a librdkafka bug would use it.
constexpr std::chrono::seconds kReportGrace{5};

}  // namespace

struct KafkaProducer::InFlight {
  std::vector<Outcome>& outcomes;
  std::size_t pending = 0;
};

KafkaProducer::KafkaProducer(const kafka::ConnectionSettings& settings, const std::vector<std::string>& topics,
                             breaker::CircuitBreaker& breaker, TransitionSink on_transition)
    : breaker_(breaker),
      on_transition_(std::move(on_transition)),
      delivery_timeout_(settings.request_timeout_ms) {
  auto conf = kafka::make_conf(kafka::producer_properties(settings));
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
  // Anything still queued has been given up by the publisher already (its rows
  // stay pending); don't make the destructor wait a full timeout for it.
  if (client_) rd_kafka_purge(client_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  in_flight_ = nullptr;
  if (client_) rd_kafka_poll(client_.get(), 0);
}

void KafkaProducer::feed_breaker(bool failed) {
  const auto transition = failed ? breaker_.record_failure() : breaker_.record_success();
  if (transition && on_transition_) on_transition_(*transition);
}

void KafkaProducer::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* self = static_cast<KafkaProducer*>(opaque);
  const auto index = reinterpret_cast<std::uintptr_t>(message->_private);
  Outcome outcome;
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    outcome = Delivered{now_ms()};
    self->feed_breaker(false);
  } else if (kafka::is_permanent_for_message(message->err)) {
    outcome = Poison{fmt::format("Kafka refused the message: {}", rd_kafka_err2str(message->err))};
  } else {
    outcome = Failed{rd_kafka_err2str(message->err)};
    self->feed_breaker(true);
  }
  if (self->in_flight_ == nullptr || index == 0 || index > self->in_flight_->outcomes.size()) return;
  self->in_flight_->outcomes[index - 1] = std::move(outcome);
  --self->in_flight_->pending;
}

void KafkaProducer::on_error(rd_kafka_t* client, int code, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaProducer*>(opaque);
  const auto error = static_cast<rd_kafka_resp_err_t>(code);
  self->last_error_ = fmt::format("Kafka: {}", reason ? reason : rd_kafka_err2str(error));
  if (error == RD_KAFKA_RESP_ERR__FATAL) {
    char detail[512] = {0};
    rd_kafka_fatal_error(client, detail, sizeof detail);
    self->fatal_ = true;
    self->last_error_ = fmt::format("Kafka producer failed for good: {}", detail);
    spdlog::error("{}", self->last_error_);
    self->feed_breaker(true);
    return;
  }
  if (error == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    spdlog::warn("{}", self->last_error_);
    self->feed_breaker(true);
    return;
  }
  // Single connections come and go (idle reaping, a broker restarting);
  // librdkafka retries them itself.
  spdlog::debug("{}", self->last_error_);
}

void KafkaProducer::poll(std::chrono::milliseconds timeout) {
  rd_kafka_poll(client_.get(), static_cast<int>(timeout.count()));
}

std::vector<Outcome> KafkaProducer::publish(const std::vector<Outgoing>& batch) {
  std::vector<Outcome> outcomes(batch.size(), NotSent{});
  InFlight in_flight{outcomes, 0};
  in_flight_ = &in_flight;
  std::set<std::string> held_back;  // keys with an earlier row not sent or failed
  bool refused = false;

  for (std::size_t i = 0; i < batch.size() && !refused; ++i) {
    const auto& item = batch[i];
    const auto& key = item.row->key;
    if (key && held_back.contains(*key)) continue;
    const auto permission = breaker_.allow();
    if (permission.transition && on_transition_) on_transition_(*permission.transition);
    if (!permission.allowed) {
      refused = true;
      break;
    }

    kafka::HeadersHandle headers(rd_kafka_headers_new(item.message.headers.size()));
    for (const auto& [name, value] : item.message.headers) {
      rd_kafka_header_add(headers.get(), name.data(), static_cast<ssize_t>(name.size()),
                          value ? value->data() : nullptr, value ? static_cast<ssize_t>(value->size()) : 0);
    }
    // librdkafka's V_ macros cast their arguments without parentheses.
    const void* key_data = key ? key->data() : nullptr;
    const std::size_t key_size = key ? key->size() : 0;
    void* value_data = const_cast<char*>(item.row->payload.data());
    const std::size_t value_size = item.row->payload.size();
    void* opaque = reinterpret_cast<void*>(static_cast<std::uintptr_t>(i + 1));
    const auto error = rd_kafka_producev(
        client_.get(), RD_KAFKA_V_TOPIC(item.message.topic.c_str()),
        RD_KAFKA_V_KEY(key_data, key_size), RD_KAFKA_V_VALUE(value_data, value_size),
        // A copy: if a report never came, librdkafka must not read rows the
        // publisher has already let go of.
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers.get()),
        RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {
      (void)headers.release();  // librdkafka owns them now
      ++in_flight.pending;
      continue;
    }
    if (kafka::is_permanent_for_message(error)) {
      outcomes[i] = Poison{fmt::format("Kafka refused the message: {}", rd_kafka_err2str(error))};
      feed_breaker(false);  // not a sign of a sick cluster, but the permit was used
    } else {
      outcomes[i] = Failed{rd_kafka_err2str(error)};
      feed_breaker(true);
      // A full queue means Kafka is not keeping up; adding more only makes it worse.
      if (error == RD_KAFKA_RESP_ERR__QUEUE_FULL) refused = true;
    }
    if (key) held_back.insert(*key);
  }

  const auto deadline = std::chrono::steady_clock::now() + delivery_timeout_ + kReportGrace;
  while (in_flight.pending > 0 && std::chrono::steady_clock::now() < deadline) {
    // flush, not poll: the whole batch is queued already, so waiting out
    // linger.ms for more would only add latency; flush sends at once and
    // serves the delivery reports meanwhile.
    rd_kafka_flush(client_.get(), 100);
  }
  in_flight_ = nullptr;
  if (in_flight.pending > 0) {
    // Only reachable if librdkafka broke its promise of a report per message;
    // those rows keep NotSent, stay pending and are sent again.
    spdlog::error("{} message(s) got no delivery report within {} ms; they stay pending", in_flight.pending,
                  (delivery_timeout_ + kReportGrace).count());
  }
  return outcomes;
}

}  // namespace outflow::agent::publisher
