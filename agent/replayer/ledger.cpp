#include "agent/replayer/ledger.h"

#include <algorithm>

namespace outflow::agent::replayer {

PartitionLedger::PartitionLedger(std::optional<std::int64_t> committed)
    : start_(committed), confirmed_(committed), asked_(committed) {}

bool PartitionLedger::consume(std::int64_t offset) {
  if (next_ && offset < *next_) return false;
  if (!next_ && confirmed_ && offset < *confirmed_) return false;
  if (!first_) first_ = offset;
  next_ = offset + 1;
  unfinished_.insert(offset);
  return true;
}

void PartitionLedger::finish(std::int64_t offset) { unfinished_.erase(offset); }

std::optional<std::int64_t> PartitionLedger::committable() const {
  if (!next_) return std::nullopt;
  const auto position = unfinished_.empty() ? *next_ : *unfinished_.begin();
  if (asked_ && position <= *asked_) return std::nullopt;
  return position;
}

void PartitionLedger::commit_sent(std::int64_t position) { asked_ = std::max(position, asked_.value_or(position)); }

void PartitionLedger::commit_confirmed(std::int64_t position) {
  confirmed_ = std::max(position, confirmed_.value_or(position));
  if (!asked_ || *asked_ < *confirmed_) asked_ = confirmed_;
}

void PartitionLedger::commit_failed() { asked_ = confirmed_; }

std::int64_t PartitionLedger::uncommitted() const {
  if (!next_) return 0;
  // Before any confirmation, from the first consumed offset: a crash now
  // reads everything again from wherever the group's offset was.
  const auto base = confirmed_ ? std::max(*confirmed_, *first_) : *first_;
  return std::max<std::int64_t>(0, *next_ - base);
}

}  // namespace outflow::agent::replayer
