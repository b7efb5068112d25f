#include "operator/controller/workload_sync.h"

#include "operator/workloads/deployment.h"
#include "operator/workloads/live_match.h"

#include <spdlog/spdlog.h>

namespace outflow::op::controller {
namespace {

std::string resource_version(const nlohmann::json& object) {
  return object.at("metadata").value("resourceVersion", "");
}

}  // namespace

WorkloadSyncResult sync_workloads(kube::ApiClient& api, const std::vector<workloads::DesiredObject>& objects,
                                  AppliedRecords& records, bool full_check, const LiveLookup& live,
                                  const std::string& field_manager) {
  WorkloadSyncResult result;
  for (const auto& desired : objects) {
    const auto& metadata = desired.object.at("metadata");
    const std::string ns = metadata.at("namespace");
    const std::string name = metadata.at("name");
    const auto key = desired.kind.plural + "/" + name;
    const auto hash = workloads::checksum_of({desired.object.dump()});
    const bool cached = live.cached(desired.kind);
    auto record = records.find(key);
    const bool unchanged = record != records.end() && record->second.desired_hash == hash;

    std::optional<nlohmann::json> current;
    if (cached) {
      current = live.from_cache(desired.kind, ns, name);
      if (unchanged && current && resource_version(*current) == record->second.resource_version) {
        result.seen[key] = std::move(*current);
        continue;
      }
    } else {
      if (unchanged && !full_check) continue;
      current = api.get_if_exists(desired.kind, ns, name);
    }
    const auto body =
        current ? workloads::without_immutable_changes(desired.kind.plural, desired.object, *current) : desired.object;
    // List items carry no apiVersion/kind (watch events do): compare the rest.
    auto fields = body;
    fields.erase("apiVersion");
    fields.erase("kind");
    if (current && workloads::contains(*current, fields)) {
      records[key] = {hash, resource_version(*current)};
      result.seen[key] = std::move(*current);
      continue;
    }
    // force: these objects are ours; a field someone changed with kubectl goes
    // back to what the pipeline says instead of blocking the apply.
    auto applied = api.server_side_apply(desired.kind, ns, name, body, field_manager, true);
    records[key] = {hash, resource_version(applied)};
    result.applied.push_back(key);
    spdlog::debug("applied {}/{} {}", ns, key, current ? "(updated)" : "(created)");
    result.seen[key] = std::move(applied);
  }
  return result;
}

}  // namespace outflow::op::controller
