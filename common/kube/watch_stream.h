#pragma once

// The parts of a Kubernetes watch that need no I/O, kept apart so that every
// decision the informer's loop makes is unit-tested without a server: the
// request path, the events on the stream, what to do once a watch ends, and
// the reconnect back-off. watch_reflector.h does the I/O around them.

#include "common/kube/resource.h"
#include "common/kube/rest_client.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace outflow::kube {

enum class WatchEventType { Added, Modified, Deleted, Bookmark, Error };

std::string_view to_string(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::Added;
  // The object; for Bookmark only apiVersion, kind and metadata.resourceVersion
  // are meaningful; for Error a metav1.Status.
  nlohmann::json object;
};

// One line of a watch stream: {"type": "ADDED", "object": {...}}. nullopt for
// a blank line. Throws std::invalid_argument for anything else that is not an
// event (not JSON, an unknown type, no object), which means the stream cannot
// be trusted any more.
std::optional<WatchEvent> parse_watch_event(std::string_view line);

// The query of a watch request.
struct WatchOptions {
  std::string label_selector;
  // Where to start. The informer always passes the version of its last list,
  // event or bookmark; "" would mean "now", with synthetic ADDED events first.
  std::string resource_version;
  // timeoutSeconds: the server ends the watch after this long. At least 1 s,
  // since 0 would ask for the server's own (randomised, long) limit.
  std::chrono::seconds timeout{300};
  // Bookmarks move the resourceVersion along while nothing of ours changes,
  // so that the next watch starts from a version the server still has.
  bool allow_bookmarks = true;

  // Throws std::invalid_argument for a timeout under 1 s.
  Query to_query() const;
};

// collection_path(kind, ns) + "?watch=true&...". `ns` "" watches all
// namespaces of a namespaced kind, or a cluster-scoped kind.
std::string watch_path(const ResourceKind& kind, std::string_view ns, const WatchOptions& options);

// What the loop does after a watch has ended.
enum class WatchNext {
  // The server closed it normally (timeoutSeconds): watch again at once from
  // the last resourceVersion seen.
  Rewatch,
  // 410 Gone: the version was compacted away (or is older than the server's
  // watch cache), so events in between cannot be replayed. List again.
  Relist,
  // Transport failure, 5xx, 429, a refusal or a broken stream: wait out the
  // back-off, then watch again from the same version (if that version has
  // expired meanwhile the server says 410, and the loop relists).
  RetryAfterBackoff,
};

struct WatchEnd {
  WatchNext next = WatchNext::Rewatch;
  std::string reason;  // for the log
  // The server's own idea of the delay (Status.details.retryAfterSeconds,
  // sent with 429); the loop waits at least this long.
  std::optional<std::chrono::seconds> retry_after;
};

// A watch request refused with a non-2xx answer.
WatchEnd watch_end_for_response(const Response& response);

// A watch that delivered an ERROR event (whose object is a metav1.Status with
// the HTTP code the failure would have had, e.g. 410 "too old resource version").
WatchEnd watch_end_for_error_event(const nlohmann::json& status);

// A watch the server closed cleanly after delivering `events` events (bookmarks
// included) in `lasted`. One that ended at once without a single event is not
// a normal timeout but a server in trouble: back off instead of hammering it.
WatchEnd watch_end_for_close(std::size_t events, std::chrono::steady_clock::duration lasted);

inline constexpr std::chrono::seconds kMinimumNormalWatch{1};

// The delay before the next reconnect (or relist) after a failure: `initial`,
// doubling on every consecutive failure up to `max`; reset() once a watch
// delivers again. Not thread-safe: one loop owns it.
class WatchBackoff {
 public:
  // Throws std::invalid_argument unless 0 < initial <= max.
  WatchBackoff(std::chrono::milliseconds initial, std::chrono::milliseconds max);

  // The delay to wait now; the one after it is twice as long (up to max).
  std::chrono::milliseconds next();
  void reset();

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds current_;
};

}  // namespace outflow::kube
