#include "common/kube/object_trim.h"

#include <array>

namespace outflow::kube {

using nlohmann::json;

json without_bookkeeping(json object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return object;
  metadata->erase("managedFields");
  const auto annotations = metadata->find("annotations");
  if (annotations != metadata->end() && annotations->is_object()) {
    annotations->erase("kubectl.kubernetes.io/last-applied-configuration");
    if (annotations->empty()) metadata->erase(annotations);
  }
  return object;
}

json identity_only(const json& object) {
  static constexpr std::array kKept{"name", "namespace", "uid", "resourceVersion", "labels", "ownerReferences"};
  json out = json::object();
  for (const char* field : {"apiVersion", "kind"}) {
    if (object.contains(field)) out[field] = object[field];
  }
  json metadata = json::object();
  const auto from = object.find("metadata");
  if (from != object.end() && from->is_object()) {
    for (const char* field : kKept) {
      const auto value = from->find(field);
      if (value != from->end()) metadata[field] = *value;
    }
  }
  out["metadata"] = std::move(metadata);
  return out;
}

json identity_and_readiness(const json& pod) {
  json out = identity_only(pod);
  const auto metadata = pod.find("metadata");
  if (metadata != pod.end() && metadata->is_object()) {
    for (const char* field : {"deletionTimestamp", "deletionGracePeriodSeconds"}) {
      const auto value = metadata->find(field);
      if (value != metadata->end()) out["metadata"][field] = *value;
    }
  }
  const auto status = pod.find("status");
  if (status == pod.end() || !status->is_object()) return out;
  const auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return out;
  for (const auto& c : *conditions) {
    if (!c.is_object() || c.value("type", "") != "Ready") continue;
    json ready = json::object();
    for (const char* field : {"type", "status", "lastTransitionTime"}) {
      const auto value = c.find(field);
      if (value != c.end()) ready[field] = *value;
    }
    out["status"]["conditions"] = json::array({std::move(ready)});
  }
  return out;
}

}  // namespace outflow::kube
