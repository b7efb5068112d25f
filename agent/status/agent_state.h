#pragma once

// What one agent pod knows about itself at a moment: the publisher's and the
// replayer's counters and the breaker's state. The status reporter turns it into
// this pod's entry in status.agents, the metrics into gauges; both only read it.

#include "common/breaker/circuit_breaker.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace outflow::agent {

struct AgentState {
  breaker::State breaker = breaker::State::Closed;
  // Wall-clock time the breaker entered `breaker` (status.agents[].since).
  std::chrono::system_clock::time_point breaker_since{};
  // Pending rows in the buckets this pod owns; nullopt until first measured.
  std::optional<std::int64_t> outbox_backlog{};
  std::optional<std::int64_t> oldest_pending_age_seconds{};
  std::int64_t published_total = 0;  // rows this process published
  std::int64_t poison_total = 0;     // rows this process set aside as poison
  std::int64_t dlq_pending = 0;      // dead letters received but not yet republished or parked
  std::int64_t parked_total = 0;     // messages this process parked
  // The most recent problem, for a person (never a secret); empty: none.
  std::string last_error{};
  // When that problem began (status.agents[].lastErrorTime); unset with it.
  std::chrono::system_clock::time_point last_error_at{};
  bool operator==(const AgentState&) const = default;
};

}  // namespace outflow::agent
