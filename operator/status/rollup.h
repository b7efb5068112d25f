#pragma once

// Turns what the operator observed (topic plan, agent Deployment, agents'
// own status entries, alert rules) into the pipeline's conditions and the
// printer-column summary. Pure: the driver passes in what it read and `now`.

#include "operator/status/conditions.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace outflow::op::status {

// One entry of status.agents, written by that agent pod.
struct AgentEntry {
  std::string pod;
  std::string breaker;  // Closed, Open, HalfOpen
  std::string since;
  std::string last_error;
  // When the agent was last seen alive: the entry's heartbeatTime (when it was
  // written), moved forward by its pod's state (agent_liveness.h); 0 unknown.
  std::int64_t heartbeat_unix = 0;
};

std::vector<AgentEntry> agent_entries_from_json(const nlohmann::json& agents);

// JSON Patch that removes the entries of pods not in `live_pods`. Each removal
// is guarded by a test of the pod name at that index, so a concurrent write by
// an agent makes the patch fail (and be retried) instead of removing the wrong
// entry; removals go from the highest index down so indexes stay valid.
nlohmann::json prune_agents_patch(const nlohmann::json& agents, const std::set<std::string>& live_pods);

struct AgentsObserved {
  int desired = 0;          // spec.agent.replicas
  int ready = 0;            // Deployment status.readyReplicas
  int updated = 0;          // Deployment status.updatedReplicas
  bool deployment_found = false;
};

Condition agents_ready(const AgentsObserved& agents, std::int64_t generation);

// Entries whose pod was last seen alive (heartbeat_unix) longer than
// `stale_after` ago count as unknown: an agent whose pod is gone, not Ready
// or being deleted, and that wrote nothing since, cannot vouch for its breaker.
Condition breakers_closed(const std::vector<AgentEntry>& live_entries, std::int64_t now_unix,
                          std::chrono::seconds stale_after, std::int64_t generation);

// Ready is True only when TopicsReady, AgentsReady and BreakersClosed are all
// True; otherwise it carries the first failing part's reason. AlertsReady is
// reported but does not gate Ready: alerts watch the pipeline, they are not
// part of it (and clusters without the Prometheus operator must still be Ready).
Condition ready(const std::vector<Condition>& parts, std::int64_t generation);

struct Summary {
  std::string topics;    // "7/8"
  std::string agents;    // "2/2"
  std::string breakers;  // "2 Closed", "1 Open, 1 Closed", "-"
};

Summary summarize(const std::string& topics_summary, const AgentsObserved& agents,
                  const std::vector<AgentEntry>& live_entries);

nlohmann::json to_json(const Summary& summary);

}  // namespace outflow::op::status
