#pragma once

// Pure: due times by key, for the replayer's held heads (keyed by partition)
// and retries (keyed by message). At most one time per key; the earliest
// tells the event loop how long it may sleep. Times are whatever the caller
// measures in (the replayer: ms since the epoch); no clock of its own.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace outflow::agent::replayer {

template <typename Key>
class TimerSet {
 public:
  // Sets (or moves) `key`'s time to `at`.
  void schedule(const Key& key, std::int64_t at) {
    cancel(key);
    by_key_.emplace(key, at);
    by_time_.emplace(at, key);
  }
  void cancel(const Key& key) {
    const auto it = by_key_.find(key);
    if (it == by_key_.end()) return;
    by_time_.erase({it->second, key});
    by_key_.erase(it);
  }
  bool contains(const Key& key) const { return by_key_.contains(key); }
  std::optional<std::int64_t> at(const Key& key) const {
    const auto it = by_key_.find(key);
    return it == by_key_.end() ? std::nullopt : std::optional<std::int64_t>(it->second);
  }
  // The earliest time of all; nullopt when empty.
  std::optional<std::int64_t> next() const {
    return by_time_.empty() ? std::nullopt : std::optional<std::int64_t>(by_time_.begin()->first);
  }
  // Removes and returns every key whose time is <= now, earliest first.
  std::vector<Key> take_due(std::int64_t now) {
    std::vector<Key> due;
    while (!by_time_.empty() && by_time_.begin()->first <= now) {
      due.push_back(by_time_.begin()->second);
      by_key_.erase(by_time_.begin()->second);
      by_time_.erase(by_time_.begin());
    }
    return due;
  }
  // Removes every key `drop` selects.
  template <typename Predicate>
  void erase_if(Predicate drop) {
    for (auto it = by_key_.begin(); it != by_key_.end();) {
      if (drop(it->first)) {
        by_time_.erase({it->second, it->first});
        it = by_key_.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::size_t size() const { return by_key_.size(); }
  bool empty() const { return by_key_.empty(); }

 private:
  std::map<Key, std::int64_t> by_key_;
  std::set<std::pair<std::int64_t, Key>> by_time_;
};

}  // namespace outflow::agent::replayer
