#include "common/kube/event_aggregation.h"

#include "common/time_format.h"

#include <fmt/format.h>

#include <stdexcept>
#include <utility>

namespace outflow::kube {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxObjectNameLength = 253;
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kEllipsis = "...";

std::string string_at(const json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// Length of the well-formed UTF-8 sequence at text[i], or 0 if it is not one
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char min_second = 0x80;
  unsigned char max_second = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) min_second = 0xA0;  // overlong
    if (lead == 0xED) max_second = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) min_second = 0x90;  // overlong
    if (lead == 0xF4) max_second = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < min_second || byte(i + 1) > max_second) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (!is_continuation(byte(i + k))) return 0;
  }
  return length;
}

}  // namespace

std::string_view to_string(EventType type) {
  switch (type) {
    case EventType::Normal: return "Normal";
    case EventType::Warning: return "Warning";
  }
  return "Normal";
}

InvolvedObject InvolvedObject::from(const json& object) {
  InvolvedObject involved;
  involved.api_version = string_at(object, "apiVersion");
  involved.kind = string_at(object, "kind");
  const json metadata =
      object.is_object() && object.contains("metadata") ? object["metadata"] : json::object();
  involved.namespace_name = string_at(metadata, "namespace");
  involved.name = string_at(metadata, "name");
  involved.uid = string_at(metadata, "uid");
  involved.resource_version = string_at(metadata, "resourceVersion");
  if (involved.kind.empty() || involved.name.empty()) {
    throw std::invalid_argument("an Event needs an involved object with kind and metadata.name");
  }
  return involved;
}

json InvolvedObject::to_json() const {
  json ref = {{"kind", kind}, {"name", name}};
  // Empty fields are left out, as the API server would drop them anyway.
  if (!api_version.empty()) ref["apiVersion"] = api_version;
  if (!namespace_name.empty()) ref["namespace"] = namespace_name;
  if (!uid.empty()) ref["uid"] = uid;
  if (!resource_version.empty()) ref["resourceVersion"] = resource_version;
  return ref;
}

std::string InvolvedObject::event_namespace() const {
  return namespace_name.empty() ? "default" : namespace_name;
}

std::string event_message(std::string_view message, std::size_t max_bytes) {
  std::string valid;
  valid.reserve(message.size());
  for (std::size_t i = 0; i < message.size();) {
    const std::size_t length = utf8_sequence_length(message, i);
    if (length == 0) {
      valid += kReplacement;
      ++i;
    } else {
      valid.append(message, i, length);
      i += length;
    }
  }
  if (valid.size() <= max_bytes) return valid;
  if (max_bytes < kEllipsis.size()) return std::string(kEllipsis.substr(0, max_bytes));
  std::size_t cut = max_bytes - kEllipsis.size();
  // Back up to the first byte of the character the cut falls into.
  while (cut > 0 && is_continuation(static_cast<unsigned char>(valid[cut]))) --cut;
  valid.resize(cut);
  valid += kEllipsis;
  return valid;
}

std::string event_key(const InvolvedObject& object, EventType type, std::string_view reason,
                      std::string_view message) {
  // A JSON array cannot be confused by separators inside the parts.
  const json subject = object.uid.empty()
                           ? json::array({object.kind, object.namespace_name, object.name})
                           : json(object.uid);
  return json::array({subject, to_string(type), reason, message})
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string event_name(std::string_view object_name, std::uint64_t suffix) {
  const std::string hex = fmt::format("{:x}", suffix);
  const std::size_t room = kMaxObjectNameLength - hex.size() - 1;
  std::string prefix(object_name.substr(0, room));
  // A name cut in the middle must still be a DNS subdomain: no '.' or '-' before ours.
  while (!prefix.empty() && (prefix.back() == '.' || prefix.back() == '-')) prefix.pop_back();
  return prefix + "." + hex;
}

std::string format_event_time(std::chrono::system_clock::time_point time) {
  return format_rfc3339(time);
}

json make_event(const InvolvedObject& object, const std::string& name, EventType type,
                const std::string& reason, const std::string& message,
                const EventIdentity& source, const std::string& timestamp) {
  return {{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata", {{"name", name}, {"namespace", object.event_namespace()}}},
          {"involvedObject", object.to_json()},
          {"type", to_string(type)},
          {"reason", reason},
          {"message", message},
          {"source", {{"component", source.component}}},
          {"reportingComponent", source.component},
          {"reportingInstance", source.instance},
          {"firstTimestamp", timestamp},
          {"lastTimestamp", timestamp},
          {"count", 1}};
}

json event_repeat_patch(int count, const std::string& timestamp) {
  return {{"count", count}, {"lastTimestamp", timestamp}};
}

EventCache::EventCache(std::size_t capacity, Clock::duration window)
    : capacity_(capacity), window_(window) {
  if (capacity_ == 0) throw std::invalid_argument("EventCache: capacity must be positive");
}

std::optional<CachedEvent> EventCache::find(const std::string& key, Clock::time_point now) {
  const auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  if (now - it->second->second.last_seen >= window_) {
    entries_.erase(it->second);
    index_.erase(it);
    return std::nullopt;
  }
  entries_.splice(entries_.begin(), entries_, it->second);
  return it->second->second;
}

void EventCache::put(const std::string& key, CachedEvent event) {
  const auto it = index_.find(key);
  if (it != index_.end()) {
    it->second->second = std::move(event);
    entries_.splice(entries_.begin(), entries_, it->second);
    return;
  }
  entries_.emplace_front(key, std::move(event));
  index_.emplace(key, entries_.begin());
  if (index_.size() > capacity_) {
    index_.erase(entries_.back().first);
    entries_.pop_back();
  }
}

void EventCache::erase(const std::string& key) {
  const auto it = index_.find(key);
  if (it == index_.end()) return;
  entries_.erase(it->second);
  index_.erase(it);
}

}  // namespace outflow::kube
