#pragma once

// Pure: which changes to an EventPipeline are worth a reconcile. Every agent
// pod rewrites its status entry as a heartbeat every few seconds; none of that
// matters to the operator except which pods have an entry and what their
// breakers say (BreakersClosed, the printer summary, pruning). Everything
// else — spec, metadata the operator acts on, the operator's own status — is
// compared whole.

#include <nlohmann/json.hpp>

#include <string>

namespace outflow::op::controller {

// Equal for two versions of a pipeline exactly when a reconcile could not
// tell them apart: ignores resourceVersion, managedFields and the agents'
// heartbeats and counters.
std::string reconcile_fingerprint(const nlohmann::json& pipeline);

}  // namespace outflow::op::controller
