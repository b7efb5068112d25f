#pragma once

// metav1.Condition handling for EventPipeline status: a condition's
// lastTransitionTime moves only when its status flips, so `kubectl describe`
// shows how long a pipeline has been in its state, and an unchanged status
// produces an identical object (no write at steady state).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace outflow::op::status {

struct Condition {
  std::string type;
  std::string status;  // "True", "False" or "Unknown"
  std::string reason;  // CamelCase
  std::string message;
  std::int64_t observed_generation = 0;
  std::string last_transition_time;  // RFC 3339
  bool operator==(const Condition&) const = default;
};

Condition make_condition(std::string type, bool ok, std::string reason, std::string message,
                         std::int64_t generation);

// Replaces (or adds) the condition of desired.type. The transition time is
// kept when the status is unchanged, else set to `now`.
std::vector<Condition> set_condition(std::vector<Condition> conditions, Condition desired,
                                     const std::string& now);

const Condition* find_condition(const std::vector<Condition>& conditions, const std::string& type);

nlohmann::json to_json(const std::vector<Condition>& conditions);
std::vector<Condition> conditions_from_json(const nlohmann::json& conditions);

}  // namespace outflow::op::status
