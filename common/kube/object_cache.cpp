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
bool same_incarnation(const std::string& uid_a, const std::string& uid_b) {
  return uid_a.empty() || uid_b.empty() || uid_a == uid_b;
}

}  // namespace

ObjectCache::Entry ObjectCache::Entry::of(const json& object) {
  Entry entry{resource_version_of(object), metadata_string(object, "uid"), json::to_msgpack(object)};
  entry.packed.shrink_to_fit();
  return entry;
}

json ObjectCache::Entry::unpacked() const { return json::from_msgpack(packed); }

ObjectCache::Key ObjectCache::key_of(const json& object) {
  if (!object.is_object()) throw std::invalid_argument("object cache: an item is no JSON object");
  Key key{metadata_string(object, "namespace"), metadata_string(object, "name")};
  if (key.name.empty()) throw std::invalid_argument("object cache: an object without metadata.name");
  return key;
}

std::vector<CacheDelta> ObjectCache::replace(std::vector<json> items, std::string resource_version) {
  // Keyed first, packed after the checks: a refused list costs no packing.
  std::map<Key, json*, KeyLess> keyed;
  for (auto& item : items) {
    Key key = key_of(item);
    const auto where = keyed.find(key);
    if (where != keyed.end()) {
      throw std::invalid_argument(
          fmt::format("object cache: the list holds {}/{} twice", where->first.ns, where->first.name));
    }
    keyed.emplace_hint(where, std::move(key), &item);
  }
  Map fresh;
  for (auto& [key, item] : keyed) fresh.emplace_hint(fresh.end(), key, Entry::of(*item));

  std::vector<CacheDelta> changes;
  std::vector<CacheDelta> deletions;
  const std::unique_lock lock(mutex_);
  for (auto& [key, item] : keyed) {
    const Entry& entry = fresh.find(key)->second;
    const auto old = objects_.find(key);
    if (old == objects_.end()) {
      changes.push_back({InformerEventType::Added, std::move(*item)});
    } else if (!same_incarnation(old->second.uid, entry.uid)) {
      changes.push_back({InformerEventType::Deleted, old->second.unpacked()});
      changes.push_back({InformerEventType::Added, std::move(*item)});
    } else if (old->second.resource_version != entry.resource_version) {
      changes.push_back({InformerEventType::Updated, std::move(*item)});
    }
  }
  for (const auto& [key, entry] : objects_) {
    if (!fresh.contains(key)) deletions.push_back({InformerEventType::Deleted, entry.unpacked()});
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
    objects_.emplace(std::move(key), Entry::of(object));
    changes.push_back({InformerEventType::Added, std::move(object)});
  } else if (!same_incarnation(cached->second.uid, metadata_string(object, "uid"))) {
    changes.push_back({InformerEventType::Deleted, cached->second.unpacked()});
    cached->second = Entry::of(object);
    changes.push_back({InformerEventType::Added, std::move(object)});
  } else if (cached->second.resource_version != version) {
    cached->second = Entry::of(object);
    changes.push_back({InformerEventType::Updated, std::move(object)});
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

std::size_t ObjectCache::size() const {
  const std::shared_lock lock(mutex_);
  return objects_.size();
}

std::string ObjectCache::resource_version() const {
  const std::shared_lock lock(mutex_);
  return resource_version_;
}

}  // namespace outflow::kube
