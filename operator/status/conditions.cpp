#include "operator/status/conditions.h"

#include <algorithm>

namespace outflow::op::status {

Condition make_condition(std::string type, bool ok, std::string reason, std::string message,
                         std::int64_t generation) {
  return {std::move(type), ok ? "True" : "False", std::move(reason), std::move(message), generation, ""};
}

std::vector<Condition> set_condition(std::vector<Condition> conditions, Condition desired,
                                     const std::string& now) {
  auto it = std::find_if(conditions.begin(), conditions.end(),
                         [&](const Condition& c) { return c.type == desired.type; });
  if (it == conditions.end()) {
    desired.last_transition_time = now;
    conditions.push_back(std::move(desired));
    return conditions;
  }
  desired.last_transition_time =
      (it->status == desired.status && !it->last_transition_time.empty()) ? it->last_transition_time : now;
  *it = std::move(desired);
  return conditions;
}

const Condition* find_condition(const std::vector<Condition>& conditions, const std::string& type) {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

nlohmann::json to_json(const std::vector<Condition>& conditions) {
  auto out = nlohmann::json::array();
  for (const auto& c : conditions) {
    out.push_back({{"type", c.type},
                   {"status", c.status},
                   {"reason", c.reason},
                   {"message", c.message},
                   {"observedGeneration", c.observed_generation},
                   {"lastTransitionTime", c.last_transition_time}});
  }
  return out;
}

std::vector<Condition> conditions_from_json(const nlohmann::json& conditions) {
  std::vector<Condition> out;
  if (!conditions.is_array()) return out;
  for (const auto& c : conditions) {
    if (!c.is_object()) continue;
    out.push_back({c.value("type", ""), c.value("status", "Unknown"), c.value("reason", ""),
                   c.value("message", ""), c.value("observedGeneration", std::int64_t{0}),
                   c.value("lastTransitionTime", "")});
  }
  return out;
}

}  // namespace outflow::op::status
