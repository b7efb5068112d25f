#pragma once

// When each agent was last seen alive, from what the kubelet already writes:
// the agent's pod exists, is not being deleted, and is Ready (its readiness
// probe). No agent writes anything for its liveness, and the agent may write
// nothing but its pipeline's status. Pure: the driver passes in the pods its
// informer cached (by the label outflow.dev/pipeline) and the wall clock.

#include "operator/status/rollup.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace outflow::op::status {

// What the operator's pod cache keeps of a pod labelled with the pipeline.
struct AgentPod {
  std::string name;
  bool ready = false;                    // condition Ready is True
  std::int64_t ready_changed_unix = 0;   // that condition's lastTransitionTime; 0 unknown
  std::int64_t deleting_since_unix = 0;  // when its deletion was asked for; 0 not being deleted
};

// Reads a (trimmed) Pod object. A pod without a Ready condition is not Ready.
AgentPod agent_pod_from_json(const nlohmann::json& pod);

// Sets each entry's heartbeat_unix to when its agent was last seen alive:
// - its pod is Ready and not being deleted: now;
// - its pod is not Ready but the entry itself says why (breaker Open or
//   HalfOpen, or a lastError): now too. The agent's /readyz fails on purpose
//   while Kafka or the database fails, and its liveness probe restarts a hung
//   one; its entry is the report a person needs, not a silence;
// - its pod is not Ready for another reason: when it stopped being Ready;
// - its pod is being deleted: when the deletion was asked for;
// - no such pod (a process outside Kubernetes, a pod in another namespace or
//   without the label): the entry's own heartbeatTime, when it was written.
// An entry written later than any of these keeps its own time.
std::vector<AgentEntry> with_liveness(std::vector<AgentEntry> entries, const std::vector<AgentPod>& pods,
                                      std::int64_t now_unix);

// Seconds from now until the first of `entries` turns stale (heartbeat older
// than `stale_after`), counted to the second after it does; nullopt when none
// can (none has a heartbeat, or every one is stale already). An entry alive
// now comes back after `stale_after` + 1 s, which is cheap (cache reads); a
// pod's own change is a watch event and reconciles at once anyway.
std::optional<std::chrono::seconds> next_turns_stale(const std::vector<AgentEntry>& entries, std::int64_t now_unix,
                                                     std::chrono::seconds stale_after);

}  // namespace outflow::op::status
