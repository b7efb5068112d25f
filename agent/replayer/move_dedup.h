#pragma once

// Pure: recognises the second copy of a dead letter in a retry tier partition.
//
// A replica that crashes after moving a dead letter to its tier and before
// committing the dead-letter offset leaves a successor that reads and moves it
// again. Each tier copy carries `outflow-moved-from: <dlq>/<partition>/<offset>`
// (its position in the dead-letter topic), and every dead letter of one
// dead-letter partition goes to the same tier partition, in order. So both
// copies sit in one tier partition, the second a bounded distance after the
// first (no more than what the crashed replica had consumed past its commit
// plus what its successor re-reads before it): remembering the positions of
// the last `window` tier offsets is enough to recognise every second copy.
// The replayer republishes the first copy only.

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

namespace outflow::agent::replayer {

class MoveDedup {
 public:
  // `window`: how many tier offsets back a first copy is looked for.
  explicit MoveDedup(std::int64_t window) : window_(window < 1 ? 1 : window) {}

  // Records that tier offset `offset` holds a copy of `moved_from`. True when
  // an earlier tier offset (within the window) holds one already: this one is
  // a repeat. Reading the same offset again (after a seek or a rebalance) is
  // not a repeat.
  bool repeat(const std::string& moved_from, std::int64_t offset);

  std::size_t remembered() const { return first_.size(); }

 private:
  void forget_before(std::int64_t offset);

  std::int64_t window_;
  std::unordered_map<std::string, std::int64_t> first_;  // moved-from -> tier offset of its first copy
  std::deque<std::pair<std::int64_t, std::string>> order_;  // by tier offset, for forgetting
};

}  // namespace outflow::agent::replayer
