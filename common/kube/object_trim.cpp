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

}  // namespace outflow::kube
