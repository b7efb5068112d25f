#pragma once

// The replayer's figures: what it counted on its thread, summed with what its
// partitions hold (stats_of, pure), and the board through which its thread
// publishes them once a turn for any thread to read (Replayer::stats).

#include "agent/replayer/offset_book.h"

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

namespace outflow::agent::replayer {

struct ReplayerStats {
  std::int64_t received_total = 0;     // taken from the dead-letter topic
  std::int64_t moved_total = 0;        // acknowledged by a retry tier
  std::int64_t republished_total = 0;  // acknowledged by the original topic
  std::int64_t parked_total = 0;       // acknowledged by <dlq>.parked
  std::int64_t repeats_dropped = 0;    // second tier copies of one dead letter, recognised and dropped
  std::int64_t given_up_total = 0;     // could not be parked even without their value (logged as errors)
  // Times the consumer failed for good (librdkafka FATAL: fenced by a member
  // with the same group.instance.id) and was replaced by a new one.
  std::int64_t consumer_failures_total = 0;
  // Consumed by this process and not yet acknowledged where they go next
  // (including tier heads waiting to be due). Messages still unread in the
  // tier topics are not counted.
  std::int64_t pending = 0;
  std::size_t assigned_partitions = 0;
  std::size_t paused_partitions = 0;
  std::string last_error;  // the most recent problem, never secret; empty: none
};


// What the replayer's thread counts as messages come and go.
struct ReplayerCounters {
  std::int64_t received = 0;
  std::int64_t moved = 0;
  std::int64_t republished = 0;
  std::int64_t parked = 0;
  std::int64_t repeats_dropped = 0;
  std::int64_t given_up = 0;
  std::int64_t consumer_failures = 0;
};

// Pure: the figures of one moment, without last_error. A partition counts as
// paused while its head is held, and every partition while the flow gate
// (`gate_paused`) holds consumption back.
ReplayerStats stats_of(const ReplayerCounters& counters, const OffsetBook& offsets, bool gate_paused);

// Written by the replayer's thread, read from any thread.
class StatsBoard {
 public:
  // The most recent problem, shown from the next publish() on.
  void note_error(std::string message);
  // Replaces the figures; last_error is the board's own.
  void publish(ReplayerStats stats);
  ReplayerStats snapshot() const;

 private:
  mutable std::mutex mu_;
  ReplayerStats stats_;
  std::string last_error_;
};

}  // namespace outflow::agent::replayer
