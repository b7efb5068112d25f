#pragma once

// The publisher's Kafka side: one idempotent producer (acks=all, ordered per
// partition across retries), a batch produced in outbox order and waited for
// until every message has its delivery report. Every report and client-level
// failure is fed to the circuit breaker; the caller learns each row's outcome
// and marks only what Kafka acknowledged.

#include "agent/publisher/outbox_row.h"
#include "agent/publisher/row_check.h"
#include "common/breaker/circuit_breaker.h"
#include "common/kafka/client_config.h"
#include "common/kafka/handles.h"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace outflow::agent::publisher {

struct Outgoing {
  const OutboxRow* row = nullptr;  // outlives publish()
  KafkaMessage message;
};

using TransitionSink = std::function<void(const breaker::Transition&)>;

class KafkaProducer {
 public:
  // Throws kafka::ConfigError when the settings cannot make a client.
  // `topics`: every topic rows may go to, looked up at once.
  KafkaProducer(const kafka::ConnectionSettings& settings, const std::vector<std::string>& topics,
                breaker::CircuitBreaker& breaker, TransitionSink on_transition);
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Produces `batch` in order and returns one outcome per item once every
  // report is in. Each message first asks the breaker; once it refuses,
  // nothing after is sent. A row whose key already has an unsent or failed
  // row earlier in this batch is not sent either, so a key never overtakes
  // itself.
  std::vector<Outcome> publish(const std::vector<Outgoing>& batch);

  // Serves librdkafka's callbacks (errors feed the breaker) while idle.
  void poll(std::chrono::milliseconds timeout);

  // A fatal idempotence error means this producer can never send again;
  // the publisher replaces it.
  bool fatal() const { return fatal_; }
  // The last client-level error, for status (never secret).
  const std::string& last_error() const { return last_error_; }

 private:
  struct InFlight;
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque);
  static void on_error(rd_kafka_t*, int code, const char* reason, void* opaque);
  void feed_breaker(bool failed);

  breaker::CircuitBreaker& breaker_;
  TransitionSink on_transition_;
  kafka::ClientHandle client_;
  std::vector<kafka::TopicHandle> topics_;
  std::chrono::milliseconds delivery_timeout_;
  InFlight* in_flight_ = nullptr;  // the batch publish() is waiting for
  bool fatal_ = false;
  std::string last_error_;
};

}  // namespace outflow::agent::publisher
