#pragma once

// The informer's in-memory copy of one kind of object, keyed by namespace and
// name, plus the resourceVersion it is current to. Applying a list or a watch
// event returns what changed as the informer's handlers should see it, so the
// whole "what does the controller hear about" logic is pure and unit-tested.
//
// Rules:
//  - An object whose resourceVersion equals the cached one's is unchanged and
//    not reported (a relist that found nothing new, a replayed event).
//  - replace() (a list) reports against the old contents: Added for new keys,
//    Updated for changed ones, Deleted (with the last object known) for keys
//    the list no longer has: what happened while no watch was open. A key
//    whose uid changed was deleted and created again in between: Deleted of
//    the old object, then Added of the new one, so a controller never takes
//    the new object for an update of the old one.
//  - DELETED of a key not in the cache changes nothing: with a label selector
//    the server sends it when an object stops matching, and it may not have
//    matched while we were looking.
//  - Every list, event and bookmark moves resource_version() along; that is
//    where the next watch starts.
//
// Objects are held packed (packed_object.h), and so are the changes
// reported: a relist of thousands of objects is in memory packed, never as
// thousands of JSON trees at once; each is unpacked as it is handed on.
//
// Thread-safe: the informer thread writes while controller workers read.

#include "common/kube/informer.h"
#include "common/kube/packed_object.h"
#include "common/kube/watch_stream.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace outflow::kube {

struct CacheDelta {
  InformerEventType type = InformerEventType::Added;
  // The new object (Added/Updated) or the last one known (Deleted).
  PackedObject object;

  bool operator==(const CacheDelta&) const = default;
};

class ObjectCache {
 public:
  // Makes the cache hold exactly `items` (a list's, at `resource_version`).
  // Returns the changes against the old contents: Added/Updated in key order,
  // then Deleted in key order. Throws std::invalid_argument (changing nothing)
  // when an item has no metadata.name or two items share a key.
  std::vector<CacheDelta> replace(std::vector<PackedObject> items,
                                  std::string resource_version);

  // One watch event: Added/Modified/Deleted change the object (0, 1 or, for an
  // ADDED over a different uid, 2 changes), Bookmark only the version.
  // Throws std::invalid_argument for an Error event (the caller's to handle)
  // and for an object without metadata.name.
  std::vector<CacheDelta> apply(WatchEventType type, nlohmann::json object);

  std::optional<nlohmann::json> get(std::string_view ns, std::string_view name) const;
  // Every object, or those of namespace `ns`, ordered by namespace and name.
  std::vector<nlohmann::json> list(std::string_view ns = {}) const;
  // "namespace/name" ("name" when cluster-scoped) of every object, in key
  // order, without unpacking any: a resync's key list at thousands of
  // objects would otherwise unpack them all at once.
  std::vector<std::string> keys() const;
  std::size_t size() const;

  // "" until the first replace().
  std::string resource_version() const;

 private:
  struct Key {
    std::string ns;
    std::string name;
  };
  struct KeyLess {
    using is_transparent = void;
    // Compares as string_views, so that a lookup needs no string copies.
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      using View = std::pair<std::string_view, std::string_view>;
      return View(a.ns, a.name) < View(b.ns, b.name);
    }
  };
  struct KeyView {
    std::string_view ns;
    std::string_view name;
  };
  using Map = std::map<Key, PackedObject, KeyLess>;

  static Key key_of(const PackedObject& object);

  mutable std::shared_mutex mutex_;
  Map objects_;
  std::string resource_version_;
};

}  // namespace outflow::kube
