#pragma once

// Which changes of an agent's state are worth a write to its pipeline's
// status.agents entry. Every write costs an etcd write and a watch event to
// everyone watching EventPipelines (the operator, Argo CD, `kubectl get -w`),
// so the entry changes only when a person would act on what it says: the
// breaker, the last error, or a count that moved by an order of magnitude.
// Liveness is not carried here at all: the operator reads the pod's Ready
// condition, which kubelet writes from the agent's readiness probe. Pure.

#include "agent/status/agent_state.h"

#include <cstdint>
#include <optional>

namespace outflow::agent {

// A coarse change of a count such as the outbox backlog: it became known or
// unknown, or it moved by a factor of ten or more either way, counting 0 as 1
// (so 0 -> 9 and 40 -> 5 are not news, 0 -> 10 and 10000 -> 900 are). Measured
// from the value last written, not the last one seen, so a count drifting
// slowly still reports once it has drifted far enough, and one wobbling
// around a boundary does not report on every wobble.
bool coarse_change(std::optional<std::int64_t> written, std::optional<std::int64_t> now);

// True when `current` differs from what was last `written` in something a
// person acts on: breaker state or since, lastError, parkedTotal (any
// change), dlqPending coming to zero or leaving it, or a coarse change of
// outboxBacklog, oldestPendingAgeSeconds, dlqPending or publishedTotal. The total grows for ever, so as a coarse change it is news
// once per tenfold growth (a handful of writes in a pod's life; the metrics
// carry it live), and never reads 0 once rows went out.
bool material_change(const AgentState& written, const AgentState& current);

}  // namespace outflow::agent
