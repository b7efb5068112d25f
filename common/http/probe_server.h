#pragma once

// A tiny HTTP server for a binary's own endpoints: /healthz, /readyz and
// /metrics (Prometheus text format from a prometheus-cpp registry), on one
// listen address each. Runs on civetweb's threads; RAII: the destructor stops
// it.
//
// A probe answers 200 "ok" when its check returns no problem, else 503 with
// the problem as the body (e.g. "kafka admin client not connected"), so
// `kubectl describe pod` shows why a pod is not ready.

#include <prometheus/registry.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace outflow::http {

// nullopt: healthy; otherwise what is wrong.
using Check = std::function<std::optional<std::string>()>;

// Checks and the registry's Collect() run on civetweb's threads, several at
// once when requests overlap, so they must be thread-safe and quick.
struct Endpoints {
  std::map<std::string, Check> probes;              // path ("/healthz") -> check
  std::shared_ptr<prometheus::Registry> metrics;    // served at /metrics when set
};

class Server {
 public:
  // `listen` in the flag syntax of flags::parse_listen_address (":8080",
  // "127.0.0.1:0"). Throws std::runtime_error naming the address when it
  // cannot listen (port taken, bad address).
  Server(const std::string& listen, Endpoints endpoints);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The port actually bound (useful with port 0).
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace outflow::http
