#include "operator/controller/pipeline_change.h"

namespace outflow::op::controller {

std::string reconcile_fingerprint(const nlohmann::json& pipeline) {
  nlohmann::json copy = pipeline;
  if (auto metadata = copy.find("metadata"); metadata != copy.end() && metadata->is_object()) {
    metadata->erase("resourceVersion");
    metadata->erase("managedFields");
  }
  if (auto status = copy.find("status"); status != copy.end() && status->is_object()) {
    if (auto agents = status->find("agents"); agents != status->end() && agents->is_array()) {
      nlohmann::json kept = nlohmann::json::array();
      for (const auto& entry : *agents) {
        kept.push_back({{"pod", entry.value("pod", "")}, {"breaker", entry.value("breaker", "")}});
      }
      *agents = std::move(kept);
    }
  }
  // nlohmann's objects are ordered maps, so dump() is canonical.
  return copy.dump();
}

}  // namespace outflow::op::controller
