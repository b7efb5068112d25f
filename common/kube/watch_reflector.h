#pragma once

// The loop behind an Informer (client-go calls it a reflector): keeps an
// ObjectCache in step with the API server and reports each change.
//
//   list (paged) -> cache.replace -> watch from the cache's resourceVersion
//   -> apply events -> the server ends the watch -> watch again from the last
//   version -> 410 Gone -> list again. Failures back off (WatchBackoff).
//
// Kept apart from Informer (which adds the thread, the handlers and the sync
// flag) so that a test can run the loop against a cache it prepared: when the
// cache already holds a resourceVersion, run() resumes by watching from it,
// exactly as after a reconnect. That is how the tests reach a real 410: a
// version older than the API server's watch cache for the kind.
//
// Logs names and versions only, never object contents (a Secret's data).

#include "common/kube/informer.h"
#include "common/kube/object_cache.h"
#include "common/kube/rest_client.h"
#include "common/kube/watch_stream.h"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace outflow::kube {

class WatchReflector {
 public:
  // Called on the run() thread for every change, after the cache has it.
  using Emit = std::function<void(const CacheDelta&)>;

  // Borrows `rest` and `cache`, which must outlive the reflector. `on_listed`
  // runs after each successful list and its deltas have been emitted.
  // Throws std::invalid_argument for unusable options (watch_timeout under
  // 1 s, negative page_size, back-off not 0 < initial <= max, a namespace for
  // a cluster-scoped kind).
  WatchReflector(RestClient& rest, ResourceKind kind, InformerOptions options, ObjectCache& cache,
                 Emit emit, std::function<void()> on_listed = {});
  WatchReflector(const WatchReflector&) = delete;
  WatchReflector& operator=(const WatchReflector&) = delete;

  // Runs the loop on the calling thread until stop(). Lists first unless the
  // cache already has a resourceVersion, in which case it watches from there.
  void run();

  // From any thread: makes run() return promptly (closes the open watch,
  // wakes a back-off wait). Idempotent; before run(), run() returns at once.
  // A list in flight is not interrupted (it is one short request per page).
  void stop();
  bool stopping() const { return stopping_.load(); }

  // Successful lists so far.
  std::uint64_t list_count() const { return list_count_.load(); }

 private:
  bool list_and_replace();
  // nullopt when stop() ended it. `events` counts what it applied, bookmarks
  // included.
  std::optional<WatchEnd> watch_once(std::size_t& events);
  void handle_event(WatchEvent event);
  std::optional<nlohmann::json> transformed(nlohmann::json object) const;
  void emit_all(const std::vector<CacheDelta>& changes);
  // False when stop() came first.
  bool sleep_unless_stopped(std::chrono::milliseconds delay);

  RestClient& rest_;
  ResourceKind kind_;
  InformerOptions options_;
  ObjectCache& cache_;
  Emit emit_;
  std::function<void()> on_listed_;
  std::string what_;  // "configmaps in namespace x with labels app=y", for logs
  WatchBackoff backoff_;
  StreamCancel cancel_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> list_count_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace outflow::kube
