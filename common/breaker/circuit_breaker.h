#pragma once

// The agent's circuit breaker around Kafka (DESIGN.md, "Agent"). While the
// broker keeps failing, the publisher should stop claiming outbox rows and let
// the outbox grow, instead of burning attempts and hammering a sick cluster;
// once the broker is back, a few trial calls decide whether to resume.
//
//   Closed   --failure rate over the last windowSize calls >= threshold-->  Open
//   Open     --openDurationMs elapsed (checked lazily, see below)------->  HalfOpen
//   HalfOpen --halfOpenCalls trial successes-------------------------->  Closed
//   HalfOpen --any trial failure (the open timer starts again)-------->  Open
//
// Pure: no I/O, no logging, time only through the injected Clock. Every call
// that can change the state returns the Transition it caused, so the agent can
// log, count and report it to status.agents at once without polling.
//
// Thread-safe: the publisher's claim loop asks allow(), librdkafka's
// delivery-report callbacks record results on another thread, and the status
// reporter and /metrics read snapshots. One internal mutex makes each
// check-and-transition atomic, so every transition is returned to exactly one
// caller and is therefore reported exactly once; relying on each caller to hold
// an outer lock would make that guarantee depend on every call site.

#include "common/clock.h"
#include "common/pipeline/spec.h"

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace outflow::breaker {

enum class State { Closed, Open, HalfOpen };

// "Closed", "Open" or "HalfOpen": the spelling of status.agents[].breaker, which
// the operator's roll-up into BreakersClosed matches on.
std::string_view to_string(State state);

struct Transition {
  State from;
  State to;
  Clock::time_point at;
  bool operator==(const Transition&) const = default;
};

// The answer to allow(): whether the caller may make the call now, and the
// transition asking caused (Open -> HalfOpen once openDurationMs has passed).
struct Permission {
  bool allowed;
  std::optional<Transition> transition;
};

// What the breaker is now. `transition` is set when taking the snapshot itself
// moved the breaker (Open -> HalfOpen), so a status reader does not swallow a
// transition nobody else would report.
struct Snapshot {
  State state;
  Clock::time_point since;     // when the breaker entered `state`
  std::uint64_t transitions;   // transitions since construction
  std::optional<Transition> transition;
};

class CircuitBreaker {
 public:
  // Throws std::invalid_argument naming the offending field unless
  // 1 <= failure_rate_threshold <= 100, minimum_calls >= 1, window_size >= 1,
  // minimum_calls <= window_size, open_duration_ms >= 1 and half_open_calls >= 1.
  // `clock` must outlive the breaker. Starts Closed, `since` = clock.now().
  CircuitBreaker(const pipeline::BreakerSpec& spec, const Clock& clock);

  // Holds a mutex: neither copyable nor movable. The agent owns exactly one.
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // May the caller make a call now? Closed: always. Open: no, until
  // openDurationMs has passed, then the breaker becomes HalfOpen and this call
  // is its first trial. HalfOpen: yes for the first halfOpenCalls permissions
  // since entering HalfOpen, no afterwards (until the trials decide).
  [[nodiscard]] Permission allow();

  // The outcome of a call. Closed: the outcome enters the sliding window, and
  // the breaker opens once the window holds at least minimumCalls outcomes and
  // their failure rate reaches the threshold. HalfOpen: counts as a trial's
  // outcome. Open, or HalfOpen with no trial outstanding: ignored, because such
  // an outcome belongs to a call permitted before the breaker opened and says
  // nothing about whether the broker has recovered since.
  [[nodiscard]] std::optional<Transition> record_success();
  [[nodiscard]] std::optional<Transition> record_failure();

  // Opens the breaker now, whatever the window holds. For a failure that is
  // no single call's outcome but the absence of any: Kafka acknowledging
  // nothing for a whole request timeout while messages wait is an outage,
  // even if too few calls were made to reach minimumCalls. Closed or
  // HalfOpen -> Open (the open timer starts); Open: nothing, so a long
  // silence does not postpone the next trial.
  [[nodiscard]] std::optional<Transition> trip();

  // The caller gave up calls it was permitted and will never see their
  // outcomes (the replica stood down, or its producer died and was purged).
  // HalfOpen with a trial outstanding: that trial failed (-> Open, the open
  // timer starts again), because a breaker left HalfOpen with its permits
  // spent would never permit another call. Otherwise nothing: an abandoned
  // call says nothing about the broker while Closed, and Open waits out its
  // timer anyway.
  [[nodiscard]] std::optional<Transition> abandon_outstanding();

  // The current state; moves Open -> HalfOpen if openDurationMs has passed, so
  // the reported state never lags behind what allow() would do.
  [[nodiscard]] Snapshot snapshot();

 private:
  std::optional<Transition> record(bool failed);
  std::optional<Transition> half_open_if_due(Clock::time_point now);
  Transition enter(State to, Clock::time_point now);
  void push_outcome(bool failed);
  bool failure_rate_reached() const;

  const pipeline::BreakerSpec spec_;
  const Clock& clock_;

  std::mutex mu_;
  State state_ = State::Closed;
  Clock::time_point since_;
  std::uint64_t transitions_ = 0;

  // Closed: the last window_size outcomes as a ring buffer (true = failure).
  // Kept as counts plus a fixed buffer so each record is O(1) whatever the
  // window size.
  std::vector<bool> window_;
  std::size_t next_ = 0;     // slot the next outcome overwrites
  std::size_t calls_ = 0;    // outcomes held, <= window_size
  std::size_t failures_ = 0; // failures among them

  // HalfOpen: trial permissions handed out and trial successes seen.
  int trials_permitted_ = 0;
  int trials_succeeded_ = 0;
};

}  // namespace outflow::breaker
