#include "operator/status/agent_liveness.h"

#include "common/time_format.h"

#include <algorithm>
#include <map>

namespace outflow::op::status {

using nlohmann::json;

AgentPod agent_pod_from_json(const json& pod) {
  AgentPod out;
  const auto metadata = pod.value("metadata", json::object());
  out.name = metadata.value("name", "");
  if (const auto deleting = parse_rfc3339(metadata.value("deletionTimestamp", ""))) {
    // deletionTimestamp is when the grace period ends; the deletion was asked
    // for a grace period earlier.
    out.deleting_since_unix = *deleting - metadata.value("deletionGracePeriodSeconds", std::int64_t{0});
  }
  const auto status = pod.value("status", json::object());
  for (const auto& c : status.value("conditions", json::array())) {
    if (!c.is_object() || c.value("type", "") != "Ready") continue;
    out.ready = c.value("status", "") == "True";
    out.ready_changed_unix = parse_rfc3339(c.value("lastTransitionTime", "")).value_or(0);
  }
  return out;
}

namespace {

bool says_why_not_ready(const AgentEntry& e) {
  return e.breaker == "Open" || e.breaker == "HalfOpen" || !e.last_error.empty();
}

// When the agent in `pod` was last seen alive.
std::int64_t alive_at(const AgentPod& pod, const AgentEntry& entry, std::int64_t now_unix) {
  if (pod.deleting_since_unix != 0) return pod.deleting_since_unix;
  if (pod.ready || says_why_not_ready(entry)) return now_unix;
  return pod.ready_changed_unix;
}

}  // namespace

std::vector<AgentEntry> with_liveness(std::vector<AgentEntry> entries, const std::vector<AgentPod>& pods,
                                      std::int64_t now_unix) {
  std::map<std::string, const AgentPod*> by_name;
  for (const auto& pod : pods) by_name[pod.name] = &pod;
  for (auto& e : entries) {
    const auto found = by_name.find(e.pod);
    if (found == by_name.end()) continue;
    e.heartbeat_unix = std::max(e.heartbeat_unix, alive_at(*found->second, e, now_unix));
  }
  return entries;
}

std::optional<std::chrono::seconds> next_turns_stale(const std::vector<AgentEntry>& entries, std::int64_t now_unix,
                                                     std::chrono::seconds stale_after) {
  std::optional<std::chrono::seconds> first;
  for (const auto& e : entries) {
    if (e.heartbeat_unix == 0) continue;
    const auto left = e.heartbeat_unix + stale_after.count() + 1 - now_unix;
    if (left <= 0) continue;
    if (!first || left < first->count()) first = std::chrono::seconds(left);
  }
  return first;
}

}  // namespace outflow::op::status
