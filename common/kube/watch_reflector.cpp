#include "common/kube/watch_reflector.h"

#include "common/kube/api_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <utility>

namespace outflow::kube {
namespace {

using nlohmann::json;
using std::chrono::steady_clock;

// How much longer than timeoutSeconds the client waits for a silent stream:
// the server ends the watch itself at timeoutSeconds, so only a dead
// connection (a peer gone without a FIN) ever reaches this.
constexpr std::chrono::seconds kIdleMargin{30};

std::string describe(const ResourceKind& kind, const InformerOptions& options) {
  std::string text = kind.group.empty() ? kind.plural : kind.plural + "." + kind.group;
  if (!options.namespace_name.empty()) text += " in namespace " + options.namespace_name;
  if (!options.label_selector.empty()) text += " with labels " + options.label_selector;
  return text;
}

InformerOptions checked(const ResourceKind& kind, InformerOptions options) {
  if (options.watch_timeout < std::chrono::seconds(1)) {
    throw std::invalid_argument("informer: watch_timeout must be at least 1 s");
  }
  if (options.page_size < 0) throw std::invalid_argument("informer: page_size must not be negative");
  // Throws for a namespace given with a cluster-scoped kind.
  (void)collection_path(kind, options.namespace_name);
  return options;
}

std::string name_of(const PackedObject& object) {
  return object.namespace_name().empty() ? object.name() : object.namespace_name() + "/" + object.name();
}

std::string version_of(const json& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return {};
  const auto version = metadata->find("resourceVersion");
  return version != metadata->end() && version->is_string() ? version->get<std::string>()
                                                            : std::string();
}

std::string_view verb(InformerEventType type) {
  switch (type) {
    case InformerEventType::Added: return "added";
    case InformerEventType::Updated: return "updated";
    case InformerEventType::Deleted: return "deleted";
  }
  return "?";
}

}  // namespace

WatchReflector::WatchReflector(RestClient& rest, ResourceKind kind, InformerOptions options,
                               ObjectCache& cache, Emit emit, std::function<void()> on_listed)
    : rest_(rest),
      kind_(std::move(kind)),
      options_(checked(kind_, std::move(options))),
      cache_(cache),
      emit_(std::move(emit)),
      on_listed_(std::move(on_listed)),
      what_(describe(kind_, options_)),
      backoff_(options_.initial_backoff, options_.max_backoff) {}

void WatchReflector::run() {
  bool need_list = cache_.resource_version().empty();
  if (!need_list) {
    spdlog::info("informer {}: resuming from resourceVersion {}", what_, cache_.resource_version());
  }
  bool watching_from_list = false;
  while (!stopping()) {
    if (need_list) {
      if (!list_and_replace()) {
        if (!sleep_unless_stopped(backoff_.next())) return;
        continue;
      }
      need_list = false;
      watching_from_list = true;
    }
    std::size_t events = 0;
    const std::optional<WatchEnd> end = watch_once(events);
    if (!end) return;
    const bool gone_right_after_list = watching_from_list && events == 0;
    watching_from_list = false;
    switch (end->next) {
      case WatchNext::Rewatch:
        spdlog::debug("informer {}: {}; watching again", what_, end->reason);
        break;
      case WatchNext::Relist:
        need_list = true;
        // A 410 for the version a list has just returned means the server
        // cannot keep up (or is misbehaving): relisting at once would hammer
        // it with full lists, so wait like after any other failure.
        if (gone_right_after_list) {
          const auto delay = backoff_.next();
          spdlog::warn("informer {}: {} right after a list; listing again in {} ms", what_,
                       end->reason, delay.count());
          if (!sleep_unless_stopped(delay)) return;
        } else {
          spdlog::info("informer {}: {}; listing again", what_, end->reason);
        }
        break;
      case WatchNext::RetryAfterBackoff: {
        auto delay = backoff_.next();
        if (end->retry_after) {
          delay = std::max(delay, std::chrono::duration_cast<std::chrono::milliseconds>(
                                      *end->retry_after));
        }
        spdlog::warn("informer {}: {}; watching again in {} ms", what_, end->reason,
                     delay.count());
        if (!sleep_unless_stopped(delay)) return;
        break;
      }
    }
  }
}

void WatchReflector::stop() {
  {
    // Under the lock, so a back-off wait cannot miss the flag between its
    // check and its sleep.
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  cancel_.cancel();
}

bool WatchReflector::sleep_unless_stopped(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

std::optional<json> WatchReflector::transformed(json object) const {
  if (!options_.transform) return object;
  try {
    return options_.transform(std::move(object));
  } catch (const std::exception& e) {
    // Caching the untransformed object instead could keep exactly what the
    // transform exists to drop (a Secret's data), so the object is left out.
    spdlog::error("informer {}: the transform threw ({}); the object is left out of the cache",
                  what_, e.what());
    return std::nullopt;
  }
}

bool WatchReflector::list_and_replace() {
  ApiClient api(rest_);
  ListOptions list_options;
  list_options.label_selector = options_.label_selector;
  list_options.limit = options_.page_size;
  list_options.metadata_only = options_.metadata_only;
  std::vector<CacheDelta> changes;
  std::size_t count = 0;
  std::string version;
  try {
    // Page by page, each transformed and packed before the next is read, so
    // the full objects of one page at most are in memory as JSON at once.
    std::vector<PackedObject> items;
    std::string continue_token;
    do {
      json page = api.list_page(kind_, options_.namespace_name, list_options);
      if (!page.is_object()) throw std::runtime_error("the API server answered no list object");
      if (version.empty()) {
        // Later pages come from the first page's snapshot.
        version = version_of(page);
        if (version.empty()) throw std::runtime_error("the list has no metadata.resourceVersion");
        list_options.resource_version.clear();
      }
      // List items come without apiVersion and kind (watch events have
      // them); filled in so that an object looks the same whichever way it
      // came. A metadata-only list names its own item kind.
      std::string item_kind = page.value("kind", "");
      if (item_kind.size() > 4 && item_kind.ends_with("List")) item_kind.resize(item_kind.size() - 4);
      const std::string item_api_version =
          options_.metadata_only ? page.value("apiVersion", "meta.k8s.io/v1") : kind_.api_version();
      if (page["items"].is_array()) {
        for (auto& item : page["items"]) {
          if (item.is_object()) {
            if (!item.contains("apiVersion")) item["apiVersion"] = item_api_version;
            if (!item.contains("kind") && !item_kind.empty()) item["kind"] = item_kind;
          }
          if (auto object = transformed(std::move(item))) items.emplace_back(*object);
        }
      }
      const auto metadata = page.find("metadata");
      std::string next = metadata != page.end() && metadata->is_object() ? metadata->value("continue", "") : "";
      if (!next.empty() && next == list_options.continue_token) {
        throw std::runtime_error("the API server repeated a continue token");
      }
      list_options.continue_token = std::move(next);
    } while (!list_options.continue_token.empty());
    count = items.size();
    changes = cache_.replace(std::move(items), version);
  } catch (const std::exception& e) {
    spdlog::warn("informer {}: list failed: {}", what_, e.what());
    return false;
  }
  ++list_count_;
  spdlog::info("informer {}: listed {} object(s) at resourceVersion {}, {} change(s)", what_, count,
               version, changes.size());
  emit_all(changes);
  if (on_listed_) on_listed_();
  return true;
}

std::optional<WatchEnd> WatchReflector::watch_once(std::size_t& events) {
  WatchOptions watch_options;
  watch_options.label_selector = options_.label_selector;
  watch_options.resource_version = cache_.resource_version();
  watch_options.timeout = options_.watch_timeout;
  const std::string path = watch_path(kind_, options_.namespace_name, watch_options);

  events = 0;
  std::optional<WatchEnd> error_end;
  const auto on_line = [&](std::string_view line) {
    std::optional<WatchEvent> event = parse_watch_event(line);
    if (!event) return true;
    if (event->type == WatchEventType::Error) {
      error_end = watch_end_for_error_event(event->object);
      return false;
    }
    handle_event(std::move(*event));
    ++events;
    // The connection works and the version is good: the next failure is a
    // new one and starts from the initial delay.
    backoff_.reset();
    return !stopping();
  };

  spdlog::debug("informer {}: watching from resourceVersion {}", what_,
                watch_options.resource_version);
  const auto started = steady_clock::now();
  StreamResult result;
  try {
    result = rest_.stream_lines(path, on_line, cancel_, options_.watch_timeout + kIdleMargin,
                                options_.metadata_only ? kMetadataMediaType : kJsonMediaType);
  } catch (const TransportError& e) {
    return WatchEnd{WatchNext::RetryAfterBackoff, e.what(), std::nullopt};
  } catch (const std::exception& e) {
    // A line that is no event, or an object without a name: the stream
    // cannot be trusted past it. Events before it were applied and moved the
    // version, so nothing is replayed twice.
    return WatchEnd{WatchNext::RetryAfterBackoff, fmt::format("broken watch stream: {}", e.what()),
                    std::nullopt};
  }
  if (result.cancelled || stopping()) return std::nullopt;
  if (!result.response.ok()) return watch_end_for_response(result.response);
  if (error_end) return error_end;
  return watch_end_for_close(events, steady_clock::now() - started);
}

void WatchReflector::handle_event(WatchEvent event) {
  if (event.type == WatchEventType::Bookmark) {
    cache_.apply(event.type, std::move(event.object));
    return;
  }
  const std::string version = version_of(event.object);
  std::optional<json> object = transformed(std::move(event.object));
  if (!object) {
    // The object stays as it was, but the version moves on: the event has
    // been seen and must not be asked for again.
    cache_.apply(WatchEventType::Bookmark, {{"metadata", {{"resourceVersion", version}}}});
    return;
  }
  emit_all(cache_.apply(event.type, std::move(*object)));
}

void WatchReflector::emit_all(const std::vector<CacheDelta>& changes) {
  for (const auto& change : changes) {
    spdlog::debug("informer {}: {} {} (resourceVersion {})", what_, verb(change.type),
                  name_of(change.object), change.object.resource_version());
    if (emit_) emit_(change);
  }
}

}  // namespace outflow::kube
