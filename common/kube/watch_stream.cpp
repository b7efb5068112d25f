#include "common/kube/watch_stream.h"

#include "common/kube/errors.h"

#include <fmt/format.h>

#include <stdexcept>

namespace outflow::kube {
namespace {

using nlohmann::json;

std::optional<WatchEventType> event_type_of(std::string_view name) {
  if (name == "ADDED") return WatchEventType::Added;
  if (name == "MODIFIED") return WatchEventType::Modified;
  if (name == "DELETED") return WatchEventType::Deleted;
  if (name == "BOOKMARK") return WatchEventType::Bookmark;
  if (name == "ERROR") return WatchEventType::Error;
  return std::nullopt;
}

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

WatchEnd watch_end_for(const ErrorDetails& details, std::string_view where) {
  WatchEnd end;
  end.reason = fmt::format("{} {} (HTTP {}): {}", where, to_string(details.kind),
                           details.http_status,
                           details.message.empty() ? "(no message)" : details.message);
  if (details.kind == ErrorKind::Gone) {
    end.next = WatchNext::Relist;
  } else {
    end.next = WatchNext::RetryAfterBackoff;
    end.retry_after = details.retry_after;
  }
  return end;
}

}  // namespace

std::string_view to_string(WatchEventType type) {
  switch (type) {
    case WatchEventType::Added: return "ADDED";
    case WatchEventType::Modified: return "MODIFIED";
    case WatchEventType::Deleted: return "DELETED";
    case WatchEventType::Bookmark: return "BOOKMARK";
    case WatchEventType::Error: return "ERROR";
  }
  return "?";
}

std::optional<WatchEvent> parse_watch_event(std::string_view line) {
  if (blank(line)) return std::nullopt;
  json parsed = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    // Not the line itself: it may hold a Secret's data.
    throw std::invalid_argument(
        fmt::format("watch stream: a line of {} bytes is no JSON object", line.size()));
  }
  const auto type = parsed.find("type");
  if (type == parsed.end() || !type->is_string()) {
    throw std::invalid_argument("watch stream: an event without a type");
  }
  const auto event_type = event_type_of(type->get_ref<const std::string&>());
  if (!event_type) {
    throw std::invalid_argument(
        fmt::format("watch stream: unknown event type \"{}\"", type->get_ref<const std::string&>()));
  }
  const auto object = parsed.find("object");
  if (object == parsed.end() || !object->is_object()) {
    throw std::invalid_argument(
        fmt::format("watch stream: a {} event without an object", to_string(*event_type)));
  }
  return WatchEvent{*event_type, std::move(*object)};
}

Query WatchOptions::to_query() const {
  if (timeout < std::chrono::seconds(1)) {
    throw std::invalid_argument("WatchOptions::timeout must be at least 1 s");
  }
  Query q;
  q.add("watch", "true")
      .add_if("labelSelector", label_selector)
      .add_if("resourceVersion", resource_version);
  if (allow_bookmarks) q.add("allowWatchBookmarks", "true");
  q.add("timeoutSeconds", std::to_string(timeout.count()));
  return q;
}

std::string watch_path(const ResourceKind& kind, std::string_view ns, const WatchOptions& options) {
  return collection_path(kind, ns) + options.to_query().str();
}

WatchEnd watch_end_for_response(const Response& response) {
  return watch_end_for(error_details(response), "watch refused:");
}

WatchEnd watch_end_for_error_event(const json& status) {
  // The event carries what the HTTP answer would have been; reading it as
  // one reuses the Status parsing of every other request. A Status without a
  // code still has its reason ("Expired", "Gone") to go by.
  Response as_response;
  as_response.status = 0;
  if (status.is_object()) {
    const auto code = status.find("code");
    if (code != status.end() && code->is_number_integer()) as_response.status = code->get<int>();
  }
  as_response.body = status;
  if (as_response.ok()) {
    // An ERROR event that claims success is still the end of this stream.
    as_response.status = 500;
  }
  return watch_end_for(error_details(as_response), "watch ERROR event:");
}

WatchEnd watch_end_for_close(std::size_t events, std::chrono::steady_clock::duration lasted) {
  if (events == 0 && lasted < kMinimumNormalWatch) {
    return {WatchNext::RetryAfterBackoff,
            "the server ended the watch at once without an event", std::nullopt};
  }
  return {WatchNext::Rewatch, fmt::format("the server ended the watch after {} event(s)", events),
          std::nullopt};
}

WatchBackoff::WatchBackoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
    : initial_(initial), max_(max), current_(initial) {
  if (initial <= std::chrono::milliseconds::zero() || max < initial) {
    throw std::invalid_argument("watch back-off: need 0 < initial <= max");
  }
}

std::chrono::milliseconds WatchBackoff::next() {
  const auto now = current_;
  // Doubling stops at max, so it cannot overflow however long the outage.
  current_ = current_ > max_ / 2 ? max_ : current_ * 2;
  return now;
}

void WatchBackoff::reset() { current_ = initial_; }

}  // namespace outflow::kube
