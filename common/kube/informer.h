#pragma once

// A local, watch-fed copy of one kind of object, as client-go's shared
// informer keeps it: list once, then follow a watch from the list's
// resourceVersion, so the controller reads from memory and the API server
// sees one long request per kind instead of a GET per reconcile.
//
// The loop (on the informer's own thread):
//   list (paged) -> replace the cache, report adds/updates/deletes against the
//   old cache -> watch from the list's resourceVersion with bookmarks ->
//   apply each event -> when the server ends the watch (timeoutSeconds), watch
//   again from the last resourceVersion seen (bookmarks keep it fresh) ->
//   410 Gone (the version was compacted away) -> list again.
//   Transport errors and 5xx answers reconnect after a back-off that doubles
//   from `initial_backoff` to `max_backoff` and resets once a watch delivers.
//
// Handlers run on the informer thread, one event at a time, after the cache
// has been updated; they must be quick (enqueue a key) and must not call
// stop(). An event whose object's resourceVersion equals the cached one (a
// relist that found nothing new) is not reported.

#include "common/kube/resource.h"
#include "common/kube/rest_client.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace outflow::kube {

enum class InformerEventType { Added, Updated, Deleted };

struct InformerOptions {
  std::string namespace_name;   // "" = all namespaces (or a cluster-scoped kind)
  std::string label_selector;   // "" = everything
  // Objects per list request. A page is parsed whole as a JSON tree (about
  // 26 kB per Deployment) before it is packed, and a restart lists nine kinds
  // at once: at 500 a page that peaked the operator at 88 MiB with 1,000
  // pipelines, against 62 MiB in steady growth.
  std::int64_t page_size = 100;
  // The server ends each watch after this long (plus up to its own jitter);
  // the informer then continues from the last resourceVersion it saw.
  std::chrono::seconds watch_timeout{300};
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{30000};
  // Ask the API server for metadata only (PartialObjectMetadata: kind
  // "PartialObjectMetadata", no spec, status or data), for kinds whose content
  // the owner never reads from the cache: a Secret's data then never reaches
  // this process, and a Pod costs a few hundred bytes instead of kilobytes.
  bool metadata_only = false;
  // Applied to every object before it is cached and handed to handlers: keep
  // only what the owner reads (see object_trim.h), page by page, so the
  // memory of a list is one page of full objects at most.
  std::function<nlohmann::json(nlohmann::json)> transform;
};

class Informer {
 public:
  // `object` is the new object (Added/Updated) or the last one known (Deleted).
  using Handler = std::function<void(InformerEventType type, const nlohmann::json& object)>;

  // Borrows `rest`, which must outlive the informer.
  Informer(RestClient& rest, ResourceKind kind, InformerOptions options = {});
  ~Informer();  // stop()
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Before start() only.
  void add_handler(Handler handler);

  // Starts the informer thread. Once only.
  void start();
  // Ends the watch promptly (cancels the open request) and joins the thread.
  // Idempotent.
  void stop();

  // True once the first list has been applied.
  bool has_synced() const;
  // Blocks until has_synced() or the timeout; returns has_synced().
  bool wait_for_sync(std::chrono::milliseconds timeout) const;

  // Copies out of the cache. For a cluster-scoped kind pass ns = "".
  std::optional<nlohmann::json> get(std::string_view ns, std::string_view name) const;
  // Every cached object, or those of one namespace.
  std::vector<nlohmann::json> list(std::string_view ns = {}) const;
  // "namespace/name" (or "name") of every cached object, none unpacked.
  std::vector<std::string> keys() const;

  // How many times the informer listed (1 after the first sync; more after 410
  // or reconnect failures): for tests and the relist metric.
  std::uint64_t list_count() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace outflow::kube
