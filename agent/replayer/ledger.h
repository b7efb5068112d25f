#pragma once

// Pure: the replayer's bookkeeping for one partition it reads (a dead-letter
// or tier partition), with no Kafka in it. Which offsets were consumed and
// which of those are finished (acknowledged where they went next), where a
// commit may go, how much a crash now would read again, and whether the
// partition's head is held (not due yet, or refused by the breaker).
//
// No loss: the committable position is the first unfinished offset (or one
// past the last consumed), so nothing is committed past a message that has
// not arrived where it goes next.
//
// Bounded repeats: `uncommitted()` is what a replica that takes over after a
// crash reads again: everything consumed past the last commit the broker
// confirmed. The replayer stops consuming while the sum over its partitions
// reaches its in-flight window (FlowGate), which bounds the repeats.

#include <cstdint>
#include <optional>
#include <set>

namespace outflow::agent::replayer {

class PartitionLedger {
 public:
  // `committed`: the group's committed offset when the partition was
  // assigned, if known; offsets below it are never committed again.
  explicit PartitionLedger(std::optional<std::int64_t> committed = std::nullopt);

  // Records a consumed message. False (and nothing recorded) for an offset
  // below one already consumed or below the committed start: a re-fetch after
  // a seek, which the replayer already has.
  bool consume(std::int64_t offset);
  // The message at `offset` was acknowledged where it went (or dropped on
  // purpose). Unknown offsets are ignored.
  void finish(std::int64_t offset);

  // Where the next commit should go, when that is past the last one asked
  // for; nullopt: nothing new to commit.
  std::optional<std::int64_t> committable() const;
  // A commit of `position` was sent.
  void commit_sent(std::int64_t position);
  // The broker confirmed `position` (a lower, older confirmation is ignored).
  void commit_confirmed(std::int64_t position);
  // The commit failed: the next committable() asks again.
  void commit_failed();

  // Consumed and not finished: waiting for an acknowledgement, a retry or its
  // due time.
  std::int64_t unfinished() const { return static_cast<std::int64_t>(unfinished_.size()); }
  // Consumed past the last confirmed commit: read again after a crash now.
  std::int64_t uncommitted() const;
  // Below the committed offset the partition was assigned at: read only to
  // look back (move_dedup.h), never handled again.
  bool before_start(std::int64_t offset) const { return start_ && offset < *start_; }
  // One past the last consumed offset; nullopt: nothing consumed yet.
  std::optional<std::int64_t> next_offset() const { return next_; }

  // The head is kept until `until_ms` and the partition paused meanwhile.
  void hold(std::int64_t until_ms) { held_until_ = until_ms; }
  void release() { held_until_.reset(); }
  std::optional<std::int64_t> held_until() const { return held_until_; }
  bool held() const { return held_until_.has_value(); }

 private:
  std::set<std::int64_t> unfinished_;
  std::optional<std::int64_t> start_;      // the committed offset at assignment
  std::optional<std::int64_t> next_;       // last consumed + 1
  std::optional<std::int64_t> first_;      // the first offset consumed
  std::optional<std::int64_t> confirmed_;  // the broker has this committed
  std::optional<std::int64_t> asked_;      // the last commit sent (>= confirmed_)
  std::optional<std::int64_t> held_until_;
};

}  // namespace outflow::agent::replayer
