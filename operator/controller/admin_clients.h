#pragma once

// Kafka admin clients shared across reconciles. A librdkafka client opens a
// connection (TLS handshake, SASL exchange) per broker and runs threads of
// its own, far too much to build per reconcile; pipelines that connect the
// same way share one. Clients unused for `idle_ttl` are closed, so a pipeline
// deleted (or a rotated password) does not leave connections behind.

#include "common/clock.h"
#include "common/kafka/client_config.h"
#include "common/kafka/handles.h"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace outflow::op::controller {

class AdminClients {
 public:
  explicit AdminClients(std::chrono::milliseconds idle_ttl = std::chrono::minutes(10),
                        const Clock& clock = SteadyClock::instance());

  // The client for `settings` (identified by `key`, see topics::connection_key).
  // Throws kafka::ConfigError when librdkafka rejects the settings.
  std::shared_ptr<kafka::ClientHandle> get(const std::string& key,
                                           const kafka::ConnectionSettings& settings);

  std::size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<kafka::ClientHandle> client;
    Clock::time_point last_used;
  };
  const std::chrono::milliseconds idle_ttl_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> clients_;
};

}  // namespace outflow::op::controller
