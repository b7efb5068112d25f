#include "common/kube/event_recorder.h"

#include "common/kube/event_aggregation.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>
#include <utility>

namespace outflow::kube {
namespace {

using nlohmann::json;

// Event names end in the creation time in nanoseconds, in hex, like client-go's:
// `kubectl get events` then lists them in order of creation by name too.
std::uint64_t wall_clock_nanos() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count());
}

}  // namespace

struct EventRecorder::State {
  State(ApiClient& api_client, EventIdentity event_source, const Clock& steady_clock)
      : api(api_client),
        source(std::move(event_source)),
        clock(steady_clock),
        rng(std::random_device{}()) {}

  ApiClient& api;
  const EventIdentity source;
  const Clock& clock;

  // Requests for one key run one after another, so two threads recording the
  // same event cannot both create it, nor both patch the same count. Entries
  // live only while someone records that key, so the map stays small.
  struct KeyLock {
    std::mutex mutex;
    int users = 0;
  };

  std::mutex mutex;  // guards everything below
  EventCache cache;
  std::unordered_map<std::string, std::unique_ptr<KeyLock>> key_locks;
  std::uint64_t last_suffix = 0;
  std::mt19937_64 rng;

  // Holds the per-key lock for one record() call.
  class KeyGuard {
   public:
    KeyGuard(State& state, const std::string& key) : state_(state), key_(key) {
      {
        std::lock_guard lock(state_.mutex);
        auto& slot = state_.key_locks[key_];
        if (!slot) slot = std::make_unique<KeyLock>();
        ++slot->users;
        lock_ = slot.get();
      }
      lock_->mutex.lock();
    }
    ~KeyGuard() {
      lock_->mutex.unlock();
      std::lock_guard lock(state_.mutex);
      if (--lock_->users == 0) state_.key_locks.erase(key_);
    }
    KeyGuard(const KeyGuard&) = delete;
    KeyGuard& operator=(const KeyGuard&) = delete;

   private:
    State& state_;
    const std::string& key_;
    KeyLock* lock_ = nullptr;
  };

  // Unique within this process even for two Events in one nanosecond; another
  // process colliding on a name is handled by retrying with a random suffix.
  std::uint64_t next_suffix(bool random) {
    std::lock_guard lock(mutex);
    if (random) return rng();
    last_suffix = std::max(last_suffix + 1, wall_clock_nanos());
    return last_suffix;
  }

  std::optional<CachedEvent> cached(const std::string& key) {
    std::lock_guard lock(mutex);
    return cache.find(key, clock.now());
  }

  void remember(const std::string& key, CachedEvent event) {
    std::lock_guard lock(mutex);
    cache.put(key, std::move(event));
  }

  void forget(const std::string& key) {
    std::lock_guard lock(mutex);
    cache.erase(key);
  }

  void record(const json& object, EventType type, const std::string& reason,
              const std::string& message) {
    const InvolvedObject involved = InvolvedObject::from(object);
    const std::string text = event_message(message);
    const std::string key = event_key(involved, type, reason, text);
    const KeyGuard guard(*this, key);
    const std::string now = format_event_time(std::chrono::system_clock::now());

    if (auto existing = cached(key)) {
      try {
        api.merge_patch(kinds::events(), existing->namespace_name, existing->name,
                        event_repeat_patch(existing->count + 1, now));
        existing->count += 1;
        existing->last_seen = clock.now();
        remember(key, std::move(*existing));
        return;
      } catch (const ApiError& e) {
        // Deleted (by hand, or by the API server's event TTL): start a new one.
        if (e.kind() != ErrorKind::NotFound) throw;
        forget(key);
      }
    }

    const std::string ns = involved.event_namespace();
    for (int attempt = 0;; ++attempt) {
      const std::string name = event_name(involved.name, next_suffix(attempt > 0));
      try {
        api.create(kinds::events(), ns,
                   make_event(involved, name, type, reason, text, source, now));
        remember(key, CachedEvent{ns, name, 1, clock.now()});
        return;
      } catch (const ApiError& e) {
        if (e.kind() != ErrorKind::AlreadyExists || attempt > 0) throw;
      }
    }
  }
};

EventRecorder::EventRecorder(ApiClient& api, std::string component, std::string instance,
                             const Clock& clock)
    : state_(std::make_unique<State>(api, EventIdentity{std::move(component), std::move(instance)},
                                     clock)) {}

EventRecorder::~EventRecorder() = default;

void EventRecorder::record(const json& object, EventType type, const std::string& reason,
                           const std::string& message) {
  // Events are best effort: whatever goes wrong is logged and dropped, so a
  // reconcile never fails (or unwinds) because its Event could not be written.
  try {
    state_->record(object, type, reason, message);
  } catch (const std::exception& e) {
    std::string subject = "?";
    try {
      subject = fmt::format("{} {}/{}", object.value("kind", "?"),
                            object.at("metadata").value("namespace", ""),
                            object.at("metadata").value("name", "?"));
    } catch (...) {
      // The object itself is malformed; the error says so already.
    }
    spdlog::warn("event {} {} about {} not recorded: {}", to_string(type), reason, subject,
                 e.what());
  } catch (...) {
    spdlog::warn("event {} {} not recorded: unknown error", to_string(type), reason);
  }
}

}  // namespace outflow::kube
