#include "common/breaker/circuit_breaker.h"

#include <chrono>
#include <stdexcept>
#include <string>

namespace outflow::breaker {

namespace {

// Reject what cannot describe a working breaker instead of clamping it: a
// silently "fixed" threshold would make the agent behave unlike its spec.
// Field names are the EventPipeline's, which is what a person edits.
const pipeline::BreakerSpec& validated(const pipeline::BreakerSpec& spec) {
  const auto reject = [](const char* field, const std::string& why) {
    throw std::invalid_argument("circuitBreaker." + std::string(field) + ": " + why);
  };
  if (spec.failure_rate_threshold < 1 || spec.failure_rate_threshold > 100) {
    reject("failureRateThreshold", "must be a percentage from 1 to 100");
  }
  if (spec.minimum_calls < 1) {
    reject("minimumCalls", "must be at least 1");
  }
  if (spec.window_size < 1) {
    reject("windowSize", "must be at least 1");
  }
  // A window smaller than minimumCalls never holds enough calls to open.
  if (spec.minimum_calls > spec.window_size) {
    reject("minimumCalls", "cannot exceed windowSize");
  }
  // Zero would make Open indistinguishable from HalfOpen: no pause at all.
  if (spec.open_duration_ms < 1) {
    reject("openDurationMs", "must be at least 1");
  }
  if (spec.half_open_calls < 1) {
    reject("halfOpenCalls", "must be at least 1");
  }
  return spec;
}

}  // namespace

std::string_view to_string(State state) {
  switch (state) {
    case State::Closed:
      return "Closed";
    case State::Open:
      return "Open";
    case State::HalfOpen:
      return "HalfOpen";
  }
  return "Unknown";  // unreachable for valid enumerators; keeps -Wreturn-type quiet
}

CircuitBreaker::CircuitBreaker(const pipeline::BreakerSpec& spec, const Clock& clock)
    : spec_(validated(spec)),
      clock_(clock),
      since_(clock.now()),
      window_(static_cast<std::size_t>(spec_.window_size), false) {}

Permission CircuitBreaker::allow() {
  const std::lock_guard lock(mu_);
  const auto transition = half_open_if_due(clock_.now());
  switch (state_) {
    case State::Closed:
      return {true, transition};
    case State::Open:
      return {false, transition};
    case State::HalfOpen:
      // Only halfOpenCalls trials: a recovering broker should not get the full
      // backlog before it has shown it can take a little of it.
      if (trials_permitted_ < spec_.half_open_calls) {
        ++trials_permitted_;
        return {true, transition};
      }
      return {false, transition};
  }
  return {false, transition};
}

std::optional<Transition> CircuitBreaker::record_success() {
  const std::lock_guard lock(mu_);
  return record(false);
}

std::optional<Transition> CircuitBreaker::record_failure() {
  const std::lock_guard lock(mu_);
  return record(true);
}

std::optional<Transition> CircuitBreaker::trip() {
  const std::lock_guard lock(mu_);
  if (state_ == State::Open) return std::nullopt;
  return enter(State::Open, clock_.now());
}

std::optional<Transition> CircuitBreaker::abandon_outstanding() {
  const std::lock_guard lock(mu_);
  if (state_ != State::HalfOpen || trials_succeeded_ >= trials_permitted_) return std::nullopt;
  return enter(State::Open, clock_.now());
}

Snapshot CircuitBreaker::snapshot() {
  const std::lock_guard lock(mu_);
  const auto transition = half_open_if_due(clock_.now());
  return {state_, since_, transitions_, transition};
}

std::optional<Transition> CircuitBreaker::record(bool failed) {
  const auto now = clock_.now();
  switch (state_) {
    case State::Closed:
      push_outcome(failed);
      if (failure_rate_reached()) {
        return enter(State::Open, now);
      }
      return std::nullopt;
    case State::Open:
      return std::nullopt;
    case State::HalfOpen:
      if (trials_succeeded_ >= trials_permitted_) {
        return std::nullopt;  // no trial outstanding: a late outcome from before Open
      }
      if (failed) {
        return enter(State::Open, now);  // restarts the open timer via since_
      }
      if (++trials_succeeded_ >= spec_.half_open_calls) {
        return enter(State::Closed, now);
      }
      return std::nullopt;
  }
  return std::nullopt;
}

// The timer is checked when someone asks rather than by a thread or timer of
// its own, keeping the breaker free of threads. The transition is stamped with
// the moment it is noticed, not the moment the timer expired: that is when the
// breaker starts admitting trials, which is what `since` should tell a reader.
std::optional<Transition> CircuitBreaker::half_open_if_due(Clock::time_point now) {
  if (state_ != State::Open) {
    return std::nullopt;
  }
  if (now - since_ < std::chrono::milliseconds(spec_.open_duration_ms)) {
    return std::nullopt;
  }
  return enter(State::HalfOpen, now);
}

Transition CircuitBreaker::enter(State to, Clock::time_point now) {
  const Transition transition{state_, to, now};
  state_ = to;
  since_ = now;
  ++transitions_;
  // Each state starts from a clean slate. Closed: outcomes from before the
  // outage would otherwise reopen the breaker right after it recovered.
  // HalfOpen: a new round of trials.
  next_ = 0;
  calls_ = 0;
  failures_ = 0;
  trials_permitted_ = 0;
  trials_succeeded_ = 0;
  return transition;
}

void CircuitBreaker::push_outcome(bool failed) {
  if (calls_ == window_.size()) {
    // Full: the oldest outcome, in the slot about to be overwritten, leaves.
    if (window_[next_]) {
      --failures_;
    }
  } else {
    ++calls_;
  }
  window_[next_] = failed;
  if (failed) {
    ++failures_;
  }
  next_ = (next_ + 1) % window_.size();
}

bool CircuitBreaker::failure_rate_reached() const {
  if (calls_ < static_cast<std::size_t>(spec_.minimum_calls)) {
    return false;
  }
  // failures / calls >= threshold / 100, in integers so 50 % of 3 calls is
  // decided exactly rather than by floating-point rounding.
  return failures_ * 100 >= static_cast<std::size_t>(spec_.failure_rate_threshold) * calls_;
}

}  // namespace outflow::breaker
