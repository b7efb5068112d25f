#include "agent/replayer/offset_book.h"

#include <algorithm>

namespace outflow::agent::replayer {

void OffsetBook::assign(const TopicPartition& tp, std::optional<std::int64_t> committed) {
  ledgers_.insert_or_assign(tp, PartitionLedger(committed));
}

void OffsetBook::revoke(const TopicPartition& tp) { ledgers_.erase(tp); }

PartitionLedger* OffsetBook::find(const TopicPartition& tp) {
  const auto it = ledgers_.find(tp);
  return it == ledgers_.end() ? nullptr : &it->second;
}

PartitionLedger& OffsetBook::at(const TopicPartition& tp) { return ledgers_.at(tp); }

void OffsetBook::finish(const TopicPartition& tp, std::int64_t offset) {
  if (auto* ledger = find(tp)) ledger->finish(offset);
}

std::vector<CommitPosition> OffsetBook::committable(const std::set<TopicPartition>* only) const {
  std::vector<CommitPosition> out;
  for (const auto& [tp, ledger] : ledgers_) {
    if (only && !only->contains(tp)) continue;
    if (const auto position = ledger.committable()) out.push_back({tp, *position});
  }
  return out;
}

void OffsetBook::sent(const std::vector<CommitPosition>& positions, bool confirmed) {
  for (const auto& p : positions) {
    auto& ledger = ledgers_.at(p.partition);
    ledger.commit_sent(p.offset);
    if (confirmed) ledger.commit_confirmed(p.offset);
  }
}

bool OffsetBook::answered(const CommitPosition& position, bool ok) {
  auto* ledger = find(position.partition);
  if (ledger == nullptr) return false;
  if (ok) {
    ledger->commit_confirmed(position.offset);
    return false;
  }
  ledger->commit_failed();
  return true;
}

std::int64_t OffsetBook::uncommitted() const {
  std::int64_t sum = 0;
  for (const auto& [tp, ledger] : ledgers_) sum += ledger.uncommitted();
  return sum;
}

std::int64_t OffsetBook::unfinished() const {
  std::int64_t sum = 0;
  for (const auto& [tp, ledger] : ledgers_) sum += ledger.unfinished();
  return sum;
}

std::int64_t look_back_start(std::int64_t committed, std::int64_t lookback) {
  return std::max<std::int64_t>(0, committed - lookback);
}

}  // namespace outflow::agent::replayer
