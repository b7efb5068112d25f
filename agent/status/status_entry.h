#pragma once

// This agent pod's entry in the pipeline's status.agents, and when to write it.
// Pure: no I/O, time only as arguments, so the entry's shape and the write
// schedule are unit-tested without an API server or a sleep. StatusReporter
// (status_reporter.h) does the I/O.

#include "agent/config/agent_config.h"
#include "agent/status/agent_state.h"
#include "common/clock.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace outflow::agent {

// status.agents[].lastError's maxLength in the CRD. The API server counts
// characters (code points), not bytes.
inline constexpr std::size_t kLastErrorMaxLength = 4096;

// `text` as well-formed UTF-8 of at most `max_chars` code points. A byte that
// does not belong to a well-formed sequence becomes U+FFFD: nlohmann::json
// refuses to serialise invalid UTF-8, so one Latin-1 byte in a server's error
// message would otherwise make every status write fail. Longer text is cut on
// a character boundary and ends in "…" so a reader knows it was cut.
std::string clamp_utf8(std::string_view text, std::size_t max_chars);

// "outflow-agent/<pod>". Each pod must apply under a manager of its own: an
// apply drops the fields its manager owned before and no longer sends, so two
// pods sharing one manager would keep deleting each other's entries. The API
// server limits a manager's name to 128 characters; pod names made by a
// Deployment have at most 63, which leaves ample room.
std::string status_field_manager(const std::string& pod);

// The entry, shaped as the CRD's status.agents items. Optional values that are
// not known (backlog not measured yet, no pending row, no breaker_since, no
// error) are left out rather than sent as zero: under server-side apply a field
// this manager stops sending is removed, so the entry never shows a stale value.
// heartbeatTime is `now`: when the entry was last written. It is no heartbeat
// any more (the entry is written only on a material change); the pod's
// Ready condition tells the operator it is alive.
nlohmann::json status_entry(const std::string& pod, const AgentState& state,
                            std::chrono::system_clock::time_point now);

// The object to server-side apply to the pipeline's status subresource: only
// this pod's entry, so the API server merges it into status.agents by its
// `pod` key and leaves every other entry and the operator's conditions alone.
nlohmann::json status_apply_body(const PipelineRef& pipeline, const nlohmann::json& entry);

// When to write. Breaker transitions go out at once (the operator's
// BreakersClosed condition and `kubectl get` should show an open breaker within
// two seconds); other material changes (material_change.h) at most once per
// interval; nothing else ever, so idle agents cost watchers nothing.
struct WritePolicy {
  // How often the state is looked at, and the least time between two writes
  // for changes other than the breaker's (a busy outbox must not turn into a
  // write per poll). No longer a heartbeat: an unchanged entry is not written.
  std::chrono::milliseconds interval{5000};
  // Least time between two writes, breaker transitions included (an
  // openDurationMs of 100 ms could otherwise flap the entry ten times a
  // second). Well under the two seconds a transition may take; never more
  // than `interval`.
  std::chrono::milliseconds min_gap{250};
  // Wait after the first failed write; doubles with every further failure up
  // to `interval`, so an unreachable API server sees one attempt per interval.
  std::chrono::milliseconds first_retry{200};
};

// What the reporter has written so far; the schedule's memory.
struct WriteHistory {
  std::optional<AgentState> written;  // what the last successful write carried
  Clock::time_point written_at{};     // when that write was started
  int failures = 0;                   // failed attempts since then
  Clock::time_point failed_at{};      // when the last failed attempt was started

  void succeeded(const AgentState& state, Clock::time_point at) {
    written = state;
    written_at = at;
    failures = 0;
  }
  void failed(Clock::time_point at) {
    ++failures;
    failed_at = at;
  }
};

struct WriteDecision {
  bool write = false;
  // When `write` is false: when to decide again unless woken before. Equal to
  // `now` when `write` is true (decide again once the write is done).
  Clock::time_point next_check{};
  bool operator==(const WriteDecision&) const = default;
};

// The wait before the next attempt after `failures` consecutive failed ones:
// first_retry doubled per further failure, capped at interval. Zero for
// failures <= 0.
std::chrono::milliseconds retry_delay(int failures, const WritePolicy& policy);

// Whether to write `current` at `now`:
//  - after failed attempts, only once retry_delay has passed since the last
//    one, whatever changed (a breaker flapping against a dead API server must
//    not turn into a request loop);
//  - nothing written yet: now;
//  - the breaker changed (state or since, so a round trip Open -> HalfOpen ->
//    Open between two looks counts too): now, or min_gap after the last write;
//  - another material change (material_change()): interval after the last write;
//  - otherwise never: look again after interval.
WriteDecision decide_write(const WriteHistory& history, const AgentState& current,
                           Clock::time_point now, const WritePolicy& policy);

}  // namespace outflow::agent
