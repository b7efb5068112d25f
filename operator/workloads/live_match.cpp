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

}  // namespace outflow::op::workloads
