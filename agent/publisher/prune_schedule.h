#pragma once

// Pure: how the housekeeper prunes published rows past their retention
// through the primary key, in steps sized to a time budget.
//
// A pass walks the ids upwards from a cursor, a batch of ids per statement,
// deleting the published rows of each batch that are past the retention. It
// ends at the retention frontier (a batch whose rows were all created after
// the cutoff: nothing above can be due yet) or at the end of the table. The
// next pass starts at the lowest published row it had to leave because it was
// too recent, so the rows below it that are gone or pending are not read
// again; rows pending then and published later (a fixed poison row and the
// rows of its key) are found by a full pass from the start every
// full_pass_interval. A run takes steps until its budget is spent; while a
// pass is unfinished the next run follows after a short pause, so pruning
// keeps pace with any publishing rate, otherwise after `interval`.

#include <chrono>
#include <cstdint>
#include <optional>

namespace outflow::agent::publisher {

struct PruneSettings {
  std::chrono::milliseconds interval{10000};  // between passes that reached the frontier
  std::chrono::milliseconds budget{1000};  // per run
  std::chrono::milliseconds full_pass_interval{3600000};
  int min_batch = 200;
  int initial_batch = 5000;
  int max_batch = 50000;
};

// What one statement found in the batch of ids after the cursor.
struct PruneStep {
  long deleted = 0;
  long scanned = 0;                         // ids in the batch
  std::optional<std::int64_t> last_id;      // highest id of the batch (nullopt: none)
  std::optional<std::int64_t> first_recent;  // lowest published id not yet due
  bool all_created_after_cutoff = false;    // the frontier
};

class PruneSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  PruneSchedule(PruneSettings settings, Clock::time_point now);

  bool due(Clock::time_point now) const { return now >= next_run_; }
  Clock::time_point next_run() const { return next_run_; }
  // Where the next statement starts (exclusive) and how many ids it takes.
  std::int64_t cursor() const { return cursor_; }
  int batch() const { return batch_; }

  void begin_run(Clock::time_point now);
  // Records a statement that took `took`; true: take another step now.
  bool record(const PruneStep& step, Clock::duration took, Clock::time_point now);
  // A statement failed: try again after `interval`, from the pass's start.
  void failed(Clock::time_point now);

 private:
  void end_pass(Clock::time_point now, std::int64_t restart_after);

  PruneSettings settings_;
  Clock::time_point next_run_;
  Clock::time_point run_deadline_{};
  Clock::time_point next_full_pass_;
  std::int64_t pass_start_ = 0;
  std::int64_t cursor_ = 0;
  std::optional<std::int64_t> first_recent_;
  int batch_;
};

}  // namespace outflow::agent::publisher
