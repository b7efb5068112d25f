#pragma once

// Pure: when the replayer stops consuming and when it starts again, and when
// it commits. Both exist to bound what a crash repeats (issue 17): a replica
// that takes over reads again everything consumed past the last confirmed
// commit, and every such dead letter may be sent twice.

#include <cstdint>
#include <optional>

namespace outflow::agent::replayer {

// Pauses consumption while the messages a crash would read again reach the
// in-flight window, resumes at half of it (so it does not flap per message).
class FlowGate {
 public:
  explicit FlowGate(std::int64_t window) : window_(window < 1 ? 1 : window) {}
  enum class Change { None, Pause, Resume };
  // `uncommitted`: summed over the partitions read (PartitionLedger::uncommitted).
  Change update(std::int64_t uncommitted);
  bool paused() const { return paused_; }
  // After a rebalance: every partition starts unpaused.
  void reset() { paused_ = false; }
  std::int64_t window() const { return window_; }

 private:
  std::int64_t window_;
  bool paused_ = false;
};

// Commits at a pace that tracks throughput: as soon as `every` messages were
// finished since the last commit, and otherwise `interval_ms` after the first
// of them, so a trickle is committed within the interval and a burst every
// `every` messages rather than every interval.
class CommitPacer {
 public:
  CommitPacer(std::int64_t every, std::int64_t interval_ms);
  void finished(std::int64_t messages, std::int64_t now_ms);
  bool due(std::int64_t now_ms) const;
  void committed();
  // When due() turns true by time alone; nullopt: nothing is waiting.
  std::optional<std::int64_t> deadline() const;

 private:
  std::int64_t every_;
  std::int64_t interval_ms_;
  std::int64_t since_ = 0;                   // finished since the last commit
  std::optional<std::int64_t> first_ms_;     // when the first of them finished
};

}  // namespace outflow::agent::replayer
