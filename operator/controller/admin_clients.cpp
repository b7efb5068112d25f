#include "operator/controller/admin_clients.h"

namespace outflow::op::controller {

AdminClients::AdminClients(std::chrono::milliseconds idle_ttl, std::size_t max_uses, const Clock& clock)
    : idle_ttl_(idle_ttl), max_uses_(max_uses), clock_(clock) {}

std::shared_ptr<kafka::ClientHandle> AdminClients::get(const std::string& key,
                                                       const kafka::ConnectionSettings& settings) {
  const auto now = clock_.now();
  std::lock_guard lock(mu_);
  // A client still in use elsewhere stays alive through its shared_ptr even
  // when evicted here; it closes when its last user lets go.
  std::erase_if(clients_, [&](const auto& item) {
    return now - item.second.last_used > idle_ttl_ || item.second.uses >= max_uses_;
  });
  auto found = clients_.find(key);
  if (found == clients_.end()) {
    auto properties = kafka::client_properties(settings);
    // Admin requests only; no produce. Keep reconnect attempts modest so a
    // dead cluster costs little between checks.
    properties.push_back({"reconnect.backoff.max.ms", "10000", false});
    auto client = std::make_shared<kafka::ClientHandle>(
        kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf(properties)));
    found = clients_.emplace(key, Entry{std::move(client), now}).first;
  }
  found->second.last_used = now;
  ++found->second.uses;
  // Serve the client's own event queue (errors, logs, statistics) that
  // librdkafka fills while brokers are down; unserved it only grows.
  rd_kafka_poll(found->second.client->get(), 0);
  return found->second.client;
}

std::size_t AdminClients::size() const {
  std::lock_guard lock(mu_);
  return clients_.size();
}

}  // namespace outflow::op::controller
