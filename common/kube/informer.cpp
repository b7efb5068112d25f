#include "common/kube/informer.h"

#include "common/kube/object_cache.h"
#include "common/kube/watch_reflector.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace outflow::kube {

struct Informer::State {
  State(RestClient& rest, ResourceKind kind, InformerOptions options)
      : plural(kind.plural),
        reflector(
            rest, std::move(kind), std::move(options), cache,
            [this](const CacheDelta& change) { dispatch(change); }, [this] { mark_synced(); }) {}

  void dispatch(const CacheDelta& change) {
    if (handlers.empty()) return;
    const auto object = change.object.unpacked();
    for (const auto& handler : handlers) {
      try {
        handler(change.type, object);
      } catch (const std::exception& e) {
        // One broken handler must not starve the others or kill the thread.
        spdlog::error("informer {}: a handler threw: {}", plural, e.what());
      }
    }
  }

  void mark_synced() {
    {
      const std::lock_guard lock(sync_mutex);
      synced = true;
    }
    sync_changed.notify_all();
  }

  bool on_informer_thread() const {
    return informer_thread_id.load() == std::this_thread::get_id();
  }

  std::string plural;  // for logs
  // Declared before the reflector, which borrows it.
  ObjectCache cache;
  // Written before start() only, then read by the informer thread alone.
  std::vector<Handler> handlers;
  WatchReflector reflector;

  mutable std::mutex sync_mutex;
  mutable std::condition_variable sync_changed;
  bool synced = false;  // guarded by sync_mutex

  // Serialises start() and stop() from different threads.
  std::mutex lifecycle_mutex;
  bool started = false;  // guarded by lifecycle_mutex
  std::atomic<std::thread::id> informer_thread_id{};
  std::thread thread;
};

Informer::Informer(RestClient& rest, ResourceKind kind, InformerOptions options)
    : state_(std::make_unique<State>(rest, std::move(kind), std::move(options))) {}

Informer::~Informer() { stop(); }

void Informer::add_handler(Handler handler) {
  const std::lock_guard lock(state_->lifecycle_mutex);
  if (state_->started) {
    throw std::logic_error("Informer::add_handler after start(): the handler would race the thread");
  }
  state_->handlers.push_back(std::move(handler));
}

void Informer::start() {
  const std::lock_guard lock(state_->lifecycle_mutex);
  if (state_->started) throw std::logic_error("Informer::start called twice");
  state_->started = true;
  State* state = state_.get();
  state_->thread = std::thread([state] {
    state->informer_thread_id = std::this_thread::get_id();
    try {
      state->reflector.run();
    } catch (const std::exception& e) {
      // run() handles the API's failures itself; this is a bug or
      // exhaustion, and the cache stops following the server.
      spdlog::critical("informer {}: the informer thread died: {}", state->plural, e.what());
    }
  });
}

void Informer::stop() {
  // A handler calling stop() would join its own thread (or wait for a join
  // of it): only ask the loop to end; the owner's stop() or the destructor
  // joins later.
  if (state_->on_informer_thread()) {
    state_->reflector.stop();
    return;
  }
  const std::lock_guard lock(state_->lifecycle_mutex);
  state_->reflector.stop();
  if (state_->thread.joinable()) state_->thread.join();
}

bool Informer::has_synced() const {
  const std::lock_guard lock(state_->sync_mutex);
  return state_->synced;
}

bool Informer::wait_for_sync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->sync_mutex);
  return state_->sync_changed.wait_for(lock, timeout, [this] { return state_->synced; });
}

std::optional<nlohmann::json> Informer::get(std::string_view ns, std::string_view name) const {
  return state_->cache.get(ns, name);
}

std::vector<std::string> Informer::keys() const { return state_->cache.keys(); }

std::vector<nlohmann::json> Informer::list(std::string_view ns) const {
  return state_->cache.list(ns);
}

std::uint64_t Informer::list_count() const { return state_->reflector.list_count(); }

}  // namespace outflow::kube
