#pragma once

// Applies a pipeline's workload objects (server-side apply, field manager
// outflow-operator) and remembers what it applied, so that a reconcile with
// nothing new sends no request at all:
//  - an object whose desired form is unchanged and whose live resourceVersion
//    (from the informer cache) is the one our last apply left is skipped
//    without looking further;
//  - otherwise the live object is read (cache, or GET for kinds not cached)
//    and applied only when it lacks some field we set (workloads::contains),
//    which is also how an out-of-band edit of our fields gets reverted.

#include "common/kube/api_client.h"
#include "operator/workloads/desired_objects.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace outflow::op::controller {

struct AppliedRecord {
  std::string desired_hash;
  std::string resource_version;  // after our apply, or as found matching
};

// "plural/name" -> record; kept per pipeline between reconciles.
using AppliedRecords = std::map<std::string, AppliedRecord>;

// Live object of a kind the informers cache; nullopt when the kind is not
// cached (then `full_check` decides whether to GET it) or the object is absent
// from a cached kind: see `cached`.
struct LiveLookup {
  std::function<bool(const kube::ResourceKind&)> cached;
  std::function<std::optional<nlohmann::json>(const kube::ResourceKind&, const std::string& ns,
                                              const std::string& name)>
      from_cache;
};

struct WorkloadSyncResult {
  std::vector<std::string> applied;  // "plural/name" actually sent
  // "plural/name" -> the object as this pass last saw it: the API server's
  // answer to the apply, or the cached object found up to date. Newer than
  // what the pass observed before it started (the cache may have caught up
  // with an earlier pass's apply meanwhile).
  std::map<std::string, nlohmann::json> seen;
};

// `full_check`: read every object, cached or not (generation changed, resync due).
// Throws kube::ApiError / TransportError from the first failing apply; the
// objects before it stay applied and recorded.
WorkloadSyncResult sync_workloads(kube::ApiClient& api, const std::vector<workloads::DesiredObject>& objects,
                                  AppliedRecords& records, bool full_check, const LiveLookup& live,
                                  const std::string& field_manager);

}  // namespace outflow::op::controller
