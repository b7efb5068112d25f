#include "common/kube/object_cache.h"

#include <fmt/format.h>

#include <mutex>
#include <stdexcept>
#include <utility>

namespace outflow::kube {
namespace {

using nlohmann::json;

std::string metadata_string(const json& object, const char* field) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return {};
  const auto value = metadata->find(field);
  return value != metadata->end() && value->is_string() ? value->get<std::string>() : std::string();
}

std::string resource_version_of(const json& object) {
  return metadata_string(object, "resourceVersion");
}

// A uid the transform dropped (or a test left out) makes no claim either way.
bool same_incarnation(const json& a, const json& b) {
  const std::string uid_a = metadata_string(a, "uid");
  const std::string uid_b = metadata_string(b, "uid");
  return uid_a.empty() || uid_b.empty() || uid_a == uid_b;
}

}  // namespace

ObjectCache::Key ObjectCache::key_of(const json& object) {
  if (!object.is_object()) throw std::invalid_argument("object cache: an item is no JSON object");
  Key key{metadata_string(object, "namespace"), metadata_string(object, "name")};
  if (key.name.empty()) throw std::invalid_argument("object cache: an object without metadata.name");
  return key;
}

std::vector<CacheDelta> ObjectCache::replace(std::vector<json> items, std::string resource_version) {
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
    } else if (resource_version_of(old->second) != resource_version_of(object)) {
      changes.push_back({InformerEventType::Updated, object});
    }
  }
  for (auto& [key, object] : objects_) {
    // The old map is dropped below, so its objects can move into the deltas.
    if (!fresh.contains(key)) deletions.push_back({InformerEventType::Deleted, std::move(object)});
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
  std::string version = resource_version_of(object);
  if (type == WatchEventType::Bookmark) {
    const std::unique_lock lock(mutex_);
    if (!version.empty()) resource_version_ = std::move(version);
    return {};
  }

  Key key = key_of(object);
  std::vector<CacheDelta> changes;
  const std::unique_lock lock(mutex_);
  if (!version.empty()) resource_version_ = version;
  const auto cached = objects_.find(key);
  if (type == WatchEventType::Deleted) {
    if (cached == objects_.end()) return changes;
    objects_.erase(cached);
    changes.push_back({InformerEventType::Deleted, std::move(object)});
    return changes;
  }
  // ADDED and MODIFIED are treated alike: after a relist either may arrive for
  // a key in either state, and the cache, not the event name, knows which.
  if (cached == objects_.end()) {
    changes.push_back({InformerEventType::Added, object});
    objects_.emplace(std::move(key), std::move(object));
  } else if (!same_incarnation(cached->second, object)) {
    changes.push_back({InformerEventType::Deleted, std::move(cached->second)});
    changes.push_back({InformerEventType::Added, object});
    cached->second = std::move(object);
  } else if (resource_version_of(cached->second) != version) {
    changes.push_back({InformerEventType::Updated, object});
    cached->second = std::move(object);
  }
  return changes;
}

std::optional<json> ObjectCache::get(std::string_view ns, std::string_view name) const {
  const std::shared_lock lock(mutex_);
  const auto found = objects_.find(KeyView{ns, name});
  if (found == objects_.end()) return std::nullopt;
  return found->second;
}

std::vector<json> ObjectCache::list(std::string_view ns) const {
  std::vector<json> out;
  const std::shared_lock lock(mutex_);
  if (ns.empty()) {
    out.reserve(objects_.size());
    for (const auto& entry : objects_) out.push_back(entry.second);
    return out;
  }
  // Keys sort by namespace first, so one namespace is one contiguous range.
  for (auto it = objects_.lower_bound(KeyView{ns, {}}); it != objects_.end() && it->first.ns == ns;
       ++it) {
    out.push_back(it->second);
  }
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
