#pragma once

// A short-lived Kafka admin client for the agent's commands (check, topics
// apply) that remembers why connecting failed. librdkafka tells the real
// reason (an SSL handshake refused, SASL authentication failed) only to the
// error callback; the Admin call itself just times out.

#include "common/kafka/client_config.h"
#include "common/kafka/handles.h"

#include <memory>
#include <mutex>
#include <string>

namespace outflow::agent::check {

class KafkaClient {
 public:
  // Throws kafka::ConfigError for settings librdkafka refuses.
  explicit KafkaClient(const kafka::ConnectionSettings& settings);
  rd_kafka_t* get() const { return client_.get(); }
  // The first error librdkafka reported, or empty; serves its queue first.
  std::string first_error();
  // "<what>: <first error>" when there is one, else `what`.
  std::string explain(const std::string& what);

 private:
  struct Errors {
    std::mutex mutex;
    std::string first;
  };
  static void on_error(rd_kafka_t* client, int code, const char* reason, void* opaque);
  std::unique_ptr<Errors> errors_;  // the callback's opaque: stable address
  kafka::ClientHandle client_;
};

}  // namespace outflow::agent::check
