#pragma once

// Shared by the informer integration tests: an event recorder for handlers, a
// TCP relay that can cut a watch mid-stream, and the fixture whose informers
// select on a label unique to the test. The controller manager puts a
// kube-root-ca.crt ConfigMap into every new namespace at a moment of its
// choosing, and other tests' objects must not leak in either.

#include "api_client_fixture.h"
#include "common/kube/informer.h"
#include "common/kube/object_cache.h"
#include "common/kube/watch_reflector.h"
#include "common/kube/watch_stream.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace outflow::kube_tests {

using kube::InformerEventType;
using Clock = std::chrono::steady_clock;

constexpr auto kEventTimeout = 10s;

inline std::string_view type_name(InformerEventType type) {
  switch (type) {
    case InformerEventType::Added: return "Added";
    case InformerEventType::Updated: return "Updated";
    case InformerEventType::Deleted: return "Deleted";
  }
  return "?";
}

// One handler call, as the handler saw it.
struct Seen {
  InformerEventType type = InformerEventType::Added;
  std::string ns;
  std::string name;
  std::string resource_version;
  // The cache already held exactly this object (or, for Deleted, no longer
  // held the key) when the handler ran.
  bool cache_agreed = false;
  bool had_data = false;
};

// Records handler calls from the informer thread; the test thread waits on it.
class Recorder {
 public:
  // A handler that also checks the informer's cache from inside the call.
  kube::Informer::Handler handler(const kube::Informer& informer) {
    return [this, &informer](InformerEventType type, const json& object) {
      Seen seen = describe(type, object);
      const auto cached = informer.get(seen.ns, seen.name);
      seen.cache_agreed = type == InformerEventType::Deleted
                              ? !cached.has_value()
                              : cached.has_value() && *cached == object;
      record(std::move(seen));
    };
  }

  static Seen describe(InformerEventType type, const json& object) {
    Seen seen;
    seen.type = type;
    const auto& metadata = object.at("metadata");
    seen.ns = metadata.value("namespace", "");
    seen.name = metadata.at("name").get<std::string>();
    seen.resource_version = metadata.value("resourceVersion", "");
    seen.had_data = object.contains("data");
    return seen;
  }

  void record(Seen seen) {
    {
      const std::lock_guard lock(mutex_);
      seen_.push_back(std::move(seen));
    }
    changed_.notify_all();
  }

  // Waits until at least `count` calls were recorded.
  bool wait_for_count(std::size_t count, std::chrono::milliseconds timeout = kEventTimeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return seen_.size() >= count; });
  }

  // Waits until a call of `type` for `name` was recorded.
  bool wait_for(InformerEventType type, const std::string& name,
                std::chrono::milliseconds timeout = kEventTimeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      return std::any_of(seen_.begin(), seen_.end(),
                         [&](const Seen& s) { return s.type == type && s.name == name; });
    });
  }

  std::vector<Seen> seen() const {
    const std::lock_guard lock(mutex_);
    return seen_;
  }

  // "Added cm-1" per call, in order.
  std::vector<std::string> summary() const {
    std::vector<std::string> out;
    for (const auto& s : seen()) out.push_back(std::string(type_name(s.type)) + " " + s.name);
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Seen> seen_;
};

// A TCP relay between a client and the API server, so that a test can cut
// the connection under an open watch: a transport failure of the real
// server's stream, which the server itself offers no way to cause.
class TcpRelay {
 public:
  TcpRelay(std::string target_host, int target_port)
      : target_host_(std::move(target_host)), target_port_(target_port) {
    listener_ = Fd(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (listener_.get() < 0 || ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener_.get(), 16) != 0 ||
        ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("relay: cannot listen on loopback");
    }
    port_ = ntohs(addr.sin_port);
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) throw std::runtime_error("relay: pipe() failed");
    wake_read_ = Fd(pipe_fds[0]);
    wake_write_ = Fd(pipe_fds[1]);
    thread_ = std::thread([this] { loop(); });
  }
  ~TcpRelay() {
    stopping_ = true;
    wake();
    thread_.join();
  }
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  int port() const { return port_; }

  // Closes every relayed connection; new ones are relayed as before.
  void cut() {
    cut_requested_ = true;
    wake();
  }

  // Connections relayed so far.
  int accepted() const { return accepted_.load(); }

 private:
  class Fd {
   public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
      if (this != &other) {
        reset();
        fd_ = std::exchange(other.fd_, -1);
      }
      return *this;
    }
    ~Fd() { reset(); }
    int get() const { return fd_; }

   private:
    void reset() {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
    }
    int fd_ = -1;
  };

  struct Pair {
    Fd client;
    Fd server;
  };

  void wake() {
    const char byte = 1;
    (void)!::write(wake_write_.get(), &byte, 1);
  }

  Fd connect_target() const {
    Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(target_port_));
    ::inet_pton(AF_INET, target_host_.c_str(), &addr.sin_addr);
    if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return Fd();
    }
    return fd;
  }

  // Copies what `from` has to `to`; false when either side is done.
  static bool pump(int from, int to) {
    char buffer[16384];
    const ssize_t got = ::read(from, buffer, sizeof buffer);
    if (got <= 0) return false;
    for (ssize_t sent = 0; sent < got;) {
      const ssize_t n = ::send(to, buffer + sent, static_cast<std::size_t>(got - sent), MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += n;
    }
    return true;
  }

  void loop() {
    std::vector<Pair> pairs;
    while (!stopping_) {
      if (cut_requested_.exchange(false)) pairs.clear();
      std::vector<pollfd> fds{{wake_read_.get(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
      for (const auto& p : pairs) {
        fds.push_back({p.client.get(), POLLIN, 0});
        fds.push_back({p.server.get(), POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 1000) <= 0) continue;
      if (fds[0].revents != 0) {
        char drain[64];
        (void)!::read(wake_read_.get(), drain, sizeof drain);
        continue;  // the flags decide; poll again with fresh state
      }
      if (fds[1].revents & POLLIN) {
        Fd client(::accept(listener_.get(), nullptr, nullptr));
        Fd server = connect_target();
        if (client.get() >= 0 && server.get() >= 0) {
          ++accepted_;
          pairs.push_back({std::move(client), std::move(server)});
        }
        continue;  // pairs changed: the poll set is stale
      }
      std::vector<Pair> alive;
      for (std::size_t i = 0; i < pairs.size(); ++i) {
        const auto& from_client = fds[2 + 2 * i];
        const auto& from_server = fds[3 + 2 * i];
        bool ok = true;
        if (from_client.revents != 0) ok = pump(pairs[i].client.get(), pairs[i].server.get());
        if (ok && from_server.revents != 0) ok = pump(pairs[i].server.get(), pairs[i].client.get());
        if (ok) alive.push_back(std::move(pairs[i]));
      }
      pairs = std::move(alive);
    }
  }

  std::string target_host_;
  int target_port_;
  int port_ = 0;
  Fd listener_;
  Fd wake_read_;
  Fd wake_write_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> cut_requested_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;  // last: started once everything it uses exists
};

// "https://127.0.0.1:6443" -> {"127.0.0.1", 6443}.
inline std::pair<std::string, int> host_and_port(const std::string& url) {
  const auto host_start = url.find("://") + 3;
  const auto colon = url.rfind(':');
  return {url.substr(host_start, colon - host_start), std::stoi(url.substr(colon + 1))};
}

inline std::vector<std::string> names_in(const std::vector<json>& objects) {
  std::vector<std::string> names;
  for (const auto& o : objects) names.push_back(o.at("metadata").at("name").get<std::string>());
  std::sort(names.begin(), names.end());
  return names;
}

using Names = std::vector<std::string>;

class InformerTest : public KubeApiClient {
 protected:
  void SetUp() override {
    KubeApiClient::SetUp();
    label_ = testenv::unique_name("inf");
  }

  json labels() const { return {{"outflow-test", label_}}; }
  std::string selector() const { return "outflow-test=" + label_; }

  kube::InformerOptions options() const {
    kube::InformerOptions o;
    o.namespace_name = ns_;
    o.label_selector = selector();
    o.watch_timeout = 30s;
    o.initial_backoff = 100ms;
    o.max_backoff = 1s;
    return o;
  }

  json create_config_map(const std::string& ns, const std::string& name,
                         const std::string& value = "v") {
    return api().create(kube::kinds::config_maps(), ns, config_map(name, {{"k", value}}, labels()));
  }
  json create_config_map(const std::string& name) { return create_config_map(ns_, name); }

  std::string label_;
};

using InformerSync = InformerTest;
using InformerWatch = InformerTest;
using InformerStop = InformerTest;
using InformerStream = InformerTest;
using InformerResume = InformerTest;
using InformerGone = KubeApiClientWidgets;

}  // namespace outflow::kube_tests
