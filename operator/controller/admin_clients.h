#pragma once

// Kafka admin clients shared across reconciles. A librdkafka client opens a
// connection (TLS handshake, SASL exchange) per broker and runs threads of
// its own, far too much to build per reconcile; pipelines that connect the
// same way share one. Clients unused for `idle_ttl` are closed, so a pipeline
// deleted (or a rotated password) does not leave connections behind.
//
// A client is also replaced after `max_uses` reconciles: librdkafka keeps
// every topic it was asked about for the client's life (about 4.3 kB each,
// measured), so one client for 9,000 topics held about 40 MB. A replaced
// client stays alive for the reconciles still using it.

#include "common/clock.h"
#include "common/kafka/client_config.h"
#include "common/kafka/handles.h"

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace outflow::op::controller {

class AdminClients {
 public:
  explicit AdminClients(std::chrono::milliseconds idle_ttl = std::chrono::minutes(10),
                        std::size_t max_uses = 500, const Clock& clock = SteadyClock::instance());

  // The client for `settings` (identified by `key`, see topics::connection_key).
  // Throws kafka::ConfigError when librdkafka rejects the settings.
  std::shared_ptr<kafka::ClientHandle> get(const std::string& key,
                                           const kafka::ConnectionSettings& settings);

  std::size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<kafka::ClientHandle> client;
    Clock::time_point last_used;
    std::size_t uses = 0;
  };
  const std::chrono::milliseconds idle_ttl_;
  const std::size_t max_uses_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> clients_;
};

}  // namespace outflow::op::controller
