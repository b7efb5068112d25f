#include "common/kube/object_cache.h"

#include <fmt/format.h>

#include <mutex>
#include <stdexcept>
#include <utility>

namespace outflow::kube {
namespace {

using nlohmann::json;

// A uid the transform dropped (or a test left out) makes no claim either way.
bool same_incarnation(const PackedObject& a, const PackedObject& b) {
  return a.uid().empty() || b.uid().empty() || a.uid() == b.uid();
}

}  // namespace

ObjectCache::Key ObjectCache::key_of(const PackedObject& object) {
  if (object.name().empty()) throw std::invalid_argument("object cache: an object without metadata.name");
  return Key{object.namespace_name(), object.name()};
}

std::vector<CacheDelta> ObjectCache::replace(std::vector<PackedObject> items, std::string resource_version) {
  Map fresh;
  for (auto& item : items) {
    Key key = key_of(item);
    const auto where = fresh.find(key);
    if (where != fresh.end()) {
      throw std::invalid_argument(
          fmt::format("object cache: the list holds {}/{} twice", where->first.ns, where->first.name));
    }
    fresh.emplace_hint(where, std::move(key), std::move(item));
  }

  // The deltas share the packed bytes with the cache: a relist of every
  // object holds each once.
  std::vector<CacheDelta> changes;
  std::vector<CacheDelta> deletions;
  const std::unique_lock lock(mutex_);
  for (const auto& [key, object] : fresh) {
    const auto old = objects_.find(key);
    if (old == objects_.end()) {
      changes.push_back({InformerEventType::Added, object});
    } else if (!same_incarnation(old->second, object)) {
      changes.push_back({InformerEventType::Deleted, old->second});
      changes.push_back({InformerEventType::Added, object});
    } else if (old->second.resource_version() != object.resource_version()) {
      changes.push_back({InformerEventType::Updated, object});
    }
  }
  for (auto& [key, object] : objects_) {
    if (!fresh.contains(key)) deletions.push_back({InformerEventType::Deleted, object});
  }
  objects_ = std::move(fresh);
  resource_version_ = std::move(resource_version);
  changes.insert(changes.end(), std::make_move_iterator(deletions.begin()),
                 std::make_move_iterator(deletions.end()));
  return changes;
}

std::vector<CacheDelta> ObjectCache::apply(WatchEventType type, json object) {
  if (type == WatchEventType::Error) {
    throw std::invalid_argument("object cache: an ERROR event changes no object");
  }
  if (type == WatchEventType::Bookmark) {
    const auto metadata = object.find("metadata");
    std::string version;
    if (metadata != object.end() && metadata->is_object()) {
      const auto value = metadata->find("resourceVersion");
      if (value != metadata->end() && value->is_string()) version = value->get<std::string>();
    }
    const std::unique_lock lock(mutex_);
    if (!version.empty()) resource_version_ = version;
    return {};
  }

  PackedObject packed(object);
  Key key = key_of(packed);
  std::vector<CacheDelta> changes;
  const std::unique_lock lock(mutex_);
  if (!packed.resource_version().empty()) resource_version_ = packed.resource_version();
  const auto cached = objects_.find(key);
  if (type == WatchEventType::Deleted) {
    if (cached == objects_.end()) return changes;
    objects_.erase(cached);
    changes.push_back({InformerEventType::Deleted, std::move(packed)});
    return changes;
  }
  // ADDED and MODIFIED are treated alike: after a relist either may arrive for
  // a key in either state, and the cache, not the event name, knows which.
  if (cached == objects_.end()) {
    changes.push_back({InformerEventType::Added, packed});
    objects_.emplace(std::move(key), std::move(packed));
  } else if (!same_incarnation(cached->second, packed)) {
    changes.push_back({InformerEventType::Deleted, cached->second});
    changes.push_back({InformerEventType::Added, packed});
    cached->second = std::move(packed);
  } else if (cached->second.resource_version() != packed.resource_version()) {
    changes.push_back({InformerEventType::Updated, packed});
    cached->second = std::move(packed);
  }
  return changes;
}

std::optional<json> ObjectCache::get(std::string_view ns, std::string_view name) const {
  const std::shared_lock lock(mutex_);
  const auto found = objects_.find(KeyView{ns, name});
  if (found == objects_.end()) return std::nullopt;
  return found->second.unpacked();
}

std::vector<json> ObjectCache::list(std::string_view ns) const {
  std::vector<json> out;
  const std::shared_lock lock(mutex_);
  if (ns.empty()) {
    out.reserve(objects_.size());
    for (const auto& entry : objects_) out.push_back(entry.second.unpacked());
    return out;
  }
  // Keys sort by namespace first, so one namespace is one contiguous range.
  for (auto it = objects_.lower_bound(KeyView{ns, {}}); it != objects_.end() && it->first.ns == ns;
       ++it) {
    out.push_back(it->second.unpacked());
  }
  return out;
}

std::vector<std::string> ObjectCache::keys() const {
  std::vector<std::string> out;
  const std::shared_lock lock(mutex_);
  out.reserve(objects_.size());
  for (const auto& [key, object] : objects_) out.push_back(key.ns.empty() ? key.name : key.ns + "/" + key.name);
  return out;
}

std::size_t ObjectCache::size() const {
  const std::shared_lock lock(mutex_);
  return objects_.size();
}

std::string ObjectCache::resource_version() const {
  const std::shared_lock lock(mutex_);
  return resource_version_;
}

}  // namespace outflow::kube
