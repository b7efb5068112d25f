#include "agent/publisher/prune_schedule.h"

#include <algorithm>

namespace outflow::agent::publisher {

PruneSchedule::PruneSchedule(PruneSettings settings, Clock::time_point now)
    : settings_(settings), next_run_(now), next_full_pass_(now + settings.full_pass_interval),
      batch_(std::clamp(settings.initial_batch, settings.min_batch, settings.max_batch)) {}

void PruneSchedule::begin_run(Clock::time_point now) {
  run_deadline_ = now + settings_.budget;
  if (now >= next_full_pass_) {
    next_full_pass_ = now + settings_.full_pass_interval;
    pass_start_ = cursor_ = 0;
    first_recent_.reset();
  }
}

bool PruneSchedule::record(const PruneStep& step, Clock::duration took, Clock::time_point now) {
  // A step should take a fifth of the budget: long enough to be efficient,
  // short enough that the run ends near its budget, far from any timeout.
  const auto target = settings_.budget / 5;
  if (took > target) {
    batch_ = std::max(settings_.min_batch, batch_ / 2);
  } else if (took < target / 4) {
    batch_ = std::min(settings_.max_batch, batch_ * 2);
  }
  if (step.first_recent) first_recent_ = std::min(first_recent_.value_or(*step.first_recent), *step.first_recent);
  if (!step.last_id || step.scanned == 0) {
    end_pass(now, cursor_);
    return false;
  }
  if (step.all_created_after_cutoff) {
    // Nothing from this batch up can be due yet: the next pass starts here.
    end_pass(now, cursor_);
    return false;
  }
  cursor_ = *step.last_id;
  if (now >= run_deadline_) {
    // Behind: come back after a pause of a quarter of the budget.
    next_run_ = now + settings_.budget / 4;
    return false;
  }
  return true;
}

void PruneSchedule::end_pass(Clock::time_point now, std::int64_t restart_after) {
  // Published rows left because they were too recent are due first.
  if (first_recent_) restart_after = std::min(restart_after, *first_recent_ - 1);
  pass_start_ = cursor_ = std::max<std::int64_t>(0, restart_after);
  first_recent_.reset();
  next_run_ = now + settings_.interval;
}

void PruneSchedule::failed(Clock::time_point now) {
  cursor_ = pass_start_;
  first_recent_.reset();
  next_run_ = now + settings_.interval;
}

}  // namespace outflow::agent::publisher
