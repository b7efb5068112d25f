#pragma once

// Time as a dependency. Code that schedules work (back-off, delayed requeues,
// rate limits, lease renewals) asks a Clock for "now" instead of calling
// std::chrono::steady_clock itself, so a test can move time by hand and check
// a 16-minute back-off in microseconds, deterministically, without sleeping.

#include <atomic>
#include <chrono>
#include <stdexcept>

namespace outflow {

class Clock {
 public:
  using duration = std::chrono::steady_clock::duration;
  using time_point = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;

  // Monotonic: never goes backwards. Safe to call from any thread.
  virtual time_point now() const = 0;
};

// The real monotonic clock.
class SteadyClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }

  // The clock has no state, so one shared instance is not shared mutable state;
  // it saves every production call site from owning a clock of its own.
  static const SteadyClock& instance() {
    static const SteadyClock clock;
    return clock;
  }
};

// A clock that moves only when told to. Thread-safe: a test thread may advance
// it while the code under test reads it from another.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(time_point start = time_point{})
      : since_epoch_(start.time_since_epoch().count()) {}

  time_point now() const override { return time_point(duration(since_epoch_.load())); }

  // Throws std::invalid_argument for a negative step: a clock that went back
  // would break the monotonic promise every user of Clock relies on.
  void advance(duration step) {
    if (step < duration::zero()) {
      throw std::invalid_argument("ManualClock::advance: negative step");
    }
    since_epoch_.fetch_add(step.count());
  }

 private:
  std::atomic<duration::rep> since_epoch_;
};

}  // namespace outflow
