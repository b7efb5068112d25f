#include "operator/workloads/live_match.h"

namespace outflow::op::workloads {

bool contains(const nlohmann::json& live, const nlohmann::json& applied) {
  if (applied.is_object()) {
    if (!live.is_object()) return false;
    for (const auto& [key, value] : applied.items()) {
      const auto found = live.find(key);
      if (found == live.end() || !contains(*found, value)) return false;
    }
    return true;
  }
  if (applied.is_array()) {
    if (!live.is_array() || live.size() != applied.size()) return false;
    for (std::size_t i = 0; i < applied.size(); ++i) {
      if (!contains(live[i], applied[i])) return false;
    }
    return true;
  }
  return live == applied;
}

nlohmann::json without_immutable_changes(std::string_view plural, nlohmann::json desired,
                                         const nlohmann::json& live) {
  if (plural != "services") return desired;
  const auto live_spec = live.find("spec");
  if (live_spec == live.end() || !live_spec->is_object()) return desired;
  const std::string address = live_spec->value("clusterIP", "");
  auto spec = desired.find("spec");
  if (spec == desired.end() || !spec->is_object() || address.empty()) return desired;
  if (spec->value("clusterIP", address) != address) {
    spec->erase("clusterIP");
    spec->erase("clusterIPs");
  }
  return desired;
}

}  // namespace outflow::op::workloads
