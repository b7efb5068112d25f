#include "operator/status/rollup.h"

#include "common/time_format.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

namespace outflow::op::status {

std::vector<AgentEntry> agent_entries_from_json(const nlohmann::json& agents) {
  std::vector<AgentEntry> out;
  if (!agents.is_array()) return out;
  for (const auto& a : agents) {
    if (!a.is_object() || !a.contains("pod")) continue;
    AgentEntry e{a.value("pod", ""), a.value("breaker", ""), a.value("since", ""), a.value("lastError", ""), 0};
    e.heartbeat_unix = parse_rfc3339(a.value("heartbeatTime", "")).value_or(0);
    out.push_back(std::move(e));
  }
  return out;
}

nlohmann::json prune_agents_patch(const nlohmann::json& agents, const std::set<std::string>& live_pods) {
  auto patch = nlohmann::json::array();
  if (!agents.is_array()) return patch;
  for (std::size_t i = agents.size(); i-- > 0;) {
    const auto pod = agents[i].value("pod", "");
    if (live_pods.count(pod) != 0) continue;
    const auto path = fmt::format("/status/agents/{}", i);
    patch.push_back({{"op", "test"}, {"path", path + "/pod"}, {"value", pod}});
    patch.push_back({{"op", "remove"}, {"path", path}});
  }
  return patch;
}

Condition agents_ready(const AgentsObserved& a, std::int64_t generation) {
  if (!a.deployment_found) {
    return make_condition("AgentsReady", false, "DeploymentMissing",
                          "the agent Deployment does not exist yet", generation);
  }
  if (a.desired == 0) {
    return make_condition("AgentsReady", true, "ScaledToZero",
                          "spec.agent.replicas is 0: no agent publishes this outbox", generation);
  }
  if (a.ready >= a.desired && a.updated >= a.desired) {
    return make_condition("AgentsReady", true, "AllAgentsReady",
                          fmt::format("{}/{} agents ready", a.ready, a.desired), generation);
  }
  return make_condition("AgentsReady", false, "AgentsProgressing",
                        fmt::format("{}/{} agents ready, {}/{} on the current configuration", a.ready,
                                    a.desired, a.updated, a.desired),
                        generation);
}

Condition breakers_closed(const std::vector<AgentEntry>& entries, std::int64_t now_unix,
                          std::chrono::seconds stale_after, std::int64_t generation) {
  std::vector<std::string> open, half_open, silent;
  for (const auto& e : entries) {
    if (e.heartbeat_unix == 0 || now_unix - e.heartbeat_unix > stale_after.count()) {
      silent.push_back(e.pod);
    } else if (e.breaker == "Open") {
      open.push_back(e.last_error.empty() ? e.pod : fmt::format("{} ({})", e.pod, e.last_error));
    } else if (e.breaker == "HalfOpen") {
      half_open.push_back(e.pod);
    }
  }
  if (!open.empty()) {
    return make_condition("BreakersClosed", false, "BreakerOpen",
                          fmt::format("Kafka circuit breaker open on {}; the outbox is growing until Kafka "
                                      "calls succeed again",
                                      fmt::join(open, ", ")),
                          generation);
  }
  if (!half_open.empty()) {
    return make_condition("BreakersClosed", false, "BreakerHalfOpen",
                          fmt::format("probing Kafka after an outage on {}", fmt::join(half_open, ", ")),
                          generation);
  }
  if (!silent.empty()) {
    Condition c = make_condition("BreakersClosed", false, "AgentsSilent",
                                 fmt::format("not seen alive for over {}s (pod gone, not Ready or being deleted, "
                                             "and no status written since): {}",
                                             stale_after.count(),
                                             fmt::join(silent, ", ")),
                                 generation);
    c.status = "Unknown";
    return c;
  }
  return make_condition("BreakersClosed", true, "AllBreakersClosed",
                        entries.empty() ? "no agent has reported yet"
                                        : fmt::format("{} agents publishing", entries.size()),
                        generation);
}

Condition ready(const std::vector<Condition>& parts, std::int64_t generation) {
  for (const char* type : {"TopicsReady", "AgentsReady", "BreakersClosed"}) {
    const Condition* c = find_condition(parts, type);
    if (c == nullptr) {
      Condition unknown = make_condition("Ready", false, "Reconciling",
                                         fmt::format("{} not determined yet", type), generation);
      unknown.status = "Unknown";
      return unknown;
    }
    if (c->status != "True") {
      Condition r = make_condition("Ready", false, c->reason, c->message, generation);
      if (c->status == "Unknown") r.status = "Unknown";
      return r;
    }
  }
  return make_condition("Ready", true, "Reconciled", "topics, agents and circuit breakers are ready", generation);
}

Summary summarize(const std::string& topics_summary, const AgentsObserved& agents,
                  const std::vector<AgentEntry>& entries) {
  Summary s{topics_summary, fmt::format("{}/{}", agents.ready, agents.desired), "-"};
  std::map<std::string, int> counts;
  for (const auto& e : entries) counts[e.breaker.empty() ? "Unknown" : e.breaker]++;
  std::string text;
  for (const char* state : {"Open", "HalfOpen", "Closed", "Unknown"}) {
    const auto it = counts.find(state);
    if (it == counts.end()) continue;
    if (!text.empty()) text += ", ";
    text += fmt::format("{} {}", it->second, state);
  }
  if (!text.empty()) s.breakers = text;
  return s;
}

nlohmann::json to_json(const Summary& s) {
  return {{"topics", s.topics}, {"agents", s.agents}, {"breakers", s.breakers}};
}

}  // namespace outflow::op::status
