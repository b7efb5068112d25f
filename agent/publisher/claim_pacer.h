#pragma once

// Pure: how often a publisher that has caught up reads again.
//
// Caught up, every commit's NOTIFY could bring its own claim, a produce of a
// row or two and an UPDATE: at a few thousand rows/s that costs PostgreSQL
// and the broker far more than the rows themselves. So the pacer watches the
// rate rows are read at (an exponentially weighted rate over about `horizon`)
// and, while it is above `busy_above` rows/s, lets the next claim run no
// sooner than `gap` after the previous one: the rows of a NOTIFY storm are
// read a few milliseconds' worth at a time, at most one claim per gap. Below
// `quiet_below` rows/s (hysteresis, so it does not flap) a wake-up claims at
// once, as before: at low rates the latency is what it always was.
//
// Only claims after a wake-up (NOTIFY, poll) or after a partial batch are
// paced; a claim that follows a full batch (a backlog) runs at once.

#include <chrono>
#include <cstddef>
#include <optional>

namespace outflow::agent::publisher {

struct PacerSettings {
  double busy_above = 1000;   // rows/s
  double quiet_below = 500;   // rows/s
  std::chrono::microseconds gap{4000};
  std::chrono::milliseconds horizon{100};
};

class ClaimPacer {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ClaimPacer(PacerSettings settings = {}) : settings_(settings) {}

  // A claim ran at `now` and returned `rows`.
  void claimed(Clock::time_point now, std::size_t rows);
  // The earliest a paced claim may run: `now` when not busy.
  Clock::time_point earliest(Clock::time_point now) const;
  bool busy() const { return busy_; }
  double rate() const { return rate_; }  // rows/s, for logs and tests

 private:
  PacerSettings settings_;
  std::optional<Clock::time_point> last_claim_;
  double rate_ = 0;
  bool busy_ = false;
};

}  // namespace outflow::agent::publisher
