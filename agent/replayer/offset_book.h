#pragma once

// Pure: the replayer's offsets across every partition it reads, one
// PartitionLedger each (ledger.h), with no Kafka in it: which partitions are
// ours, what a commit should carry, what the broker answered, and the sums
// the flow gate and the stats go by. The replayer's adapter turns the
// positions into rd_kafka_commit calls (kafka_glue.h) and the answers back.

#include "agent/replayer/ledger.h"
#include "agent/replayer/topic_partition.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace outflow::agent::replayer {

struct CommitPosition {
  TopicPartition partition;
  std::int64_t offset = 0;
  bool operator==(const CommitPosition&) const = default;
};

class OffsetBook {
 public:
  using Ledgers = std::map<TopicPartition, PartitionLedger>;

  // A partition assigned to this replica; `committed`: the group's committed
  // offset for it, if known. A partition assigned again starts afresh.
  void assign(const TopicPartition& tp, std::optional<std::int64_t> committed);
  // A partition taken away: everything about it is forgotten.
  void revoke(const TopicPartition& tp);

  // Null when the partition is not (or no longer) ours.
  PartitionLedger* find(const TopicPartition& tp);
  // The ledger of a partition that is ours; throws std::out_of_range otherwise.
  PartitionLedger& at(const TopicPartition& tp);
  const Ledgers& ledgers() const { return ledgers_; }
  bool empty() const { return ledgers_.empty(); }
  std::size_t size() const { return ledgers_.size(); }

  // The message at `offset` is done with; a partition no longer ours is
  // ignored (its next owner reads it from the committed offset).
  void finish(const TopicPartition& tp, std::int64_t offset);

  // Where a commit should go, for every partition (of `only`, when given)
  // that has something new to commit.
  std::vector<CommitPosition> committable(const std::set<TopicPartition>* only = nullptr) const;
  // `positions` were sent; `confirmed`: synchronously, so the broker has them.
  void sent(const std::vector<CommitPosition>& positions, bool confirmed);
  // The broker's answer for one position. True when it failed for a
  // partition still ours: the next committable() asks for it again.
  bool answered(const CommitPosition& position, bool ok);

  // Consumed past the last confirmed commit, summed: what a crash now repeats.
  std::int64_t uncommitted() const;
  // Consumed and not finished, summed.
  std::int64_t unfinished() const;

 private:
  Ledgers ledgers_;
};

// Where a tier partition starts reading after an assignment: `lookback`
// offsets before the committed one (never below 0), read only to remember
// which dead letters they hold (move_dedup.h).
std::int64_t look_back_start(std::int64_t committed, std::int64_t lookback);

}  // namespace outflow::agent::replayer
