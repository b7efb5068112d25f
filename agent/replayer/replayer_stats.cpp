#include "agent/replayer/replayer_stats.h"

#include <utility>

namespace outflow::agent::replayer {

ReplayerStats stats_of(const ReplayerCounters& counters, const OffsetBook& offsets, bool gate_paused) {
  ReplayerStats stats;
  stats.received_total = counters.received;
  stats.moved_total = counters.moved;
  stats.republished_total = counters.republished;
  stats.parked_total = counters.parked;
  stats.repeats_dropped = counters.repeats_dropped;
  stats.given_up_total = counters.given_up;
  stats.consumer_failures_total = counters.consumer_failures;
  stats.pending = offsets.unfinished();
  stats.assigned_partitions = offsets.size();
  for (const auto& [tp, ledger] : offsets.ledgers()) {
    if (ledger.held() || gate_paused) ++stats.paused_partitions;
  }
  return stats;
}

void StatsBoard::note_error(std::string message) {
  std::lock_guard lock(mu_);
  last_error_ = std::move(message);
}

void StatsBoard::publish(ReplayerStats stats) {
  std::lock_guard lock(mu_);
  stats.last_error = last_error_;
  stats_ = std::move(stats);
}

ReplayerStats StatsBoard::snapshot() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace outflow::agent::replayer
