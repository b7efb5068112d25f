#pragma once

// The publisher's Kafka side: one idempotent producer (acks=all, ordered per
// partition across retries) that never gives up on a message by itself.
//
// Why message.timeout.ms is infinite: with a finite one, a message that times
// out while later messages of its partition are still in flight leaves a gap
// (librdkafka bumps the idempotence epoch and carries on with the later
// ones), so a key's later row could be acknowledged and marked while an
// earlier one is sent again after it. Here a message either reaches Kafka or
// is refused; an outage is detected from Kafka's silence by the publisher
// (InFlightBatch::silence, CircuitBreaker::trip) instead of per message, and
// giving up means replacing the producer, which purges everything queued at
// once, so no later message can go out without the earlier ones.
// enable.gapless.guarantee turns a broker's refusal of one record batch into
// the same: a fatal error, later batches purged, the producer replaced. One
// request per broker in flight keeps a later batch from being taken while an
// earlier one of its partition waits for a retry (publisher_producer_properties).
//
// Threading: librdkafka calls the report sink only from poll() and flush(),
// on the thread that calls them (the publisher's).

#include "agent/publisher/outbox_row.h"
#include "agent/publisher/row_check.h"
#include "agent/publisher/topic_limits.h"
#include "common/kafka/client_config.h"
#include "common/kafka/handles.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace outflow::agent::publisher {

// A delivery report: the token the message was sent with, and its outcome.
using ReportSink = std::function<void(std::uint64_t token, Outcome outcome)>;

class KafkaProducer {
 public:
  // Throws kafka::ConfigError when the settings cannot make a client.
  // `topics`: every topic rows may go to, looked up at once.
  KafkaProducer(const kafka::ConnectionSettings& settings, const std::vector<std::string>& topics,
                const ProducerBounds& bounds, ReportSink on_report);
  // Purges whatever is still queued or in flight; no report reaches the sink
  // after the destructor has started.
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Queues one message. nullopt: queued, its report comes through the sink
  // with `token`; otherwise the outcome at once (nothing was queued).
  std::optional<Outcome> send(const OutboxRow& row, const KafkaMessage& message, std::uint64_t token);

  // Sends what is queued now (no linger) and serves reports for up to `timeout`.
  void flush(std::chrono::milliseconds timeout);
  // Serves reports and error callbacks for up to `timeout`.
  void poll(std::chrono::milliseconds timeout);
  // From inside the report sink only: the flush() or poll() serving it
  // returns after this report instead of waiting for the rest (a batch
  // is complete while later ones are still in flight).
  void stop_waiting();

  // Whether a broker answers a metadata request about the topics within
  // `timeout`: the probe of a publisher that stood down.
  bool reachable(std::chrono::milliseconds timeout);

  // The producer can never send again (fatal idempotence error); replace it.
  bool fatal() const { return fatal_; }
  // The error behind the fatal one (for a gapless stop: the broker's reason
  // for refusing the record batch); NO_ERROR while not fatal.
  rd_kafka_resp_err_t fatal_cause() const { return fatal_cause_; }
  // How many times librdkafka said every broker is down since the last call.
  int take_all_brokers_down();
  // The last client-level error, for status (never secret); empty: none since
  // the last clear_error().
  const std::string& last_error() const { return last_error_; }
  void clear_error() { last_error_.clear(); }

  const ProducerBounds& bounds() const { return bounds_; }

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque);
  static void on_error(rd_kafka_t*, int code, const char* reason, void* opaque);

  ReportSink on_report_;
  ProducerBounds bounds_;
  kafka::ClientHandle client_;
  std::vector<kafka::TopicHandle> topics_;
  bool fatal_ = false;
  rd_kafka_resp_err_t fatal_cause_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  int all_brokers_down_ = 0;
  std::string last_error_;
};

// The publisher's librdkafka properties: the shared producer settings, plus
// an infinite message timeout, the gapless guarantee and the bounds.
std::vector<kafka::Property> publisher_producer_properties(const kafka::ConnectionSettings& settings,
                                                           const ProducerBounds& bounds);

}  // namespace outflow::agent::publisher
