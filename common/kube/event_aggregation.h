#pragma once

// The pure parts of the EventRecorder: which repeats count as the same Event,
// the bounded memory of Events already written, and the Event objects
// themselves. No I/O and an injected Clock, so aggregation windows and LRU
// eviction are unit-tested without an API server or sleeping.

#include "common/clock.h"
#include "common/kube/event_recorder.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace outflow::kube {

inline constexpr std::size_t kMaxEventMessageBytes = 1024;
inline constexpr std::size_t kEventCacheCapacity = 4096;
inline constexpr std::chrono::minutes kEventAggregationWindow{10};

std::string_view to_string(EventType type);

// What an Event says about its object, read from the object as the caller has it.
struct InvolvedObject {
  std::string api_version;
  std::string kind;
  std::string namespace_name;  // "" for cluster-scoped objects
  std::string name;
  std::string uid;
  std::string resource_version;

  // Throws std::invalid_argument when kind or metadata.name is missing:
  // an Event about no particular object is a bug in the caller.
  static InvolvedObject from(const nlohmann::json& object);
  nlohmann::json to_json() const;
  // Where its Events go: its own namespace, "default" for cluster-scoped
  // objects (as client-go does; the API server requires a namespace).
  std::string event_namespace() const;
};

// `message` as valid UTF-8 of at most `max_bytes` bytes: invalid bytes become
// U+FFFD (the API server rejects invalid UTF-8, and so does our JSON encoder);
// a longer text is cut at a character boundary and ends in "...".
std::string event_message(std::string_view message, std::size_t max_bytes = kMaxEventMessageBytes);

// Events are "the same" when object uid, type, reason and (already truncated)
// message agree. Without a uid, kind/namespace/name stand in for it.
std::string event_key(const InvolvedObject& object, EventType type, std::string_view reason,
                      std::string_view message);

// "<object name>.<suffix in hex>", like client-go's; the object part is cut so
// the whole stays a valid object name (at most 253 characters).
std::string event_name(std::string_view object_name, std::uint64_t suffix);

// metav1.Time: RFC 3339 in UTC, whole seconds.
std::string format_event_time(std::chrono::system_clock::time_point time);

struct EventIdentity {
  std::string component;  // source.component and reportingComponent
  std::string instance;   // reportingInstance
};

// A new core/v1 Event with count 1 and first = last timestamp = `timestamp`.
// `message` should already have gone through event_message().
nlohmann::json make_event(const InvolvedObject& object, const std::string& name, EventType type,
                          const std::string& reason, const std::string& message,
                          const EventIdentity& source, const std::string& timestamp);

// The merge patch that records one more occurrence of an existing Event.
nlohmann::json event_repeat_patch(int count, const std::string& timestamp);

// An Event already written, as the recorder remembers it.
struct CachedEvent {
  std::string namespace_name;
  std::string name;
  int count = 1;
  Clock::time_point last_seen;  // monotonic: when this process last recorded it

  bool operator==(const CachedEvent&) const = default;
};

// Least-recently-used memory of written Events, bounded in size. An entry is
// only good for aggregation within `window` of its last occurrence; after that
// a repeat starts a new Event. Not thread-safe (the recorder locks around it).
class EventCache {
 public:
  explicit EventCache(std::size_t capacity = kEventCacheCapacity,
                      Clock::duration window = kEventAggregationWindow);

  // The Event to aggregate into: present and last seen less than `window`
  // before `now`. Marks it most recently used; forgets a stale entry.
  std::optional<CachedEvent> find(const std::string& key, Clock::time_point now);

  // Inserts or replaces; evicts the least recently used entry beyond capacity.
  void put(const std::string& key, CachedEvent event);

  void erase(const std::string& key);
  std::size_t size() const { return index_.size(); }

 private:
  using Entries = std::list<std::pair<std::string, CachedEvent>>;  // most recent first
  std::size_t capacity_;
  Clock::duration window_;
  Entries entries_;
  std::unordered_map<std::string, Entries::iterator> index_;
};

}  // namespace outflow::kube
