#include "agent/replayer/move_dedup.h"

namespace outflow::agent::replayer {

bool MoveDedup::repeat(const std::string& moved_from, std::int64_t offset) {
  forget_before(offset - window_);
  const auto [it, inserted] = first_.try_emplace(moved_from, offset);
  if (inserted) {
    order_.emplace_back(offset, moved_from);
    return false;
  }
  if (offset < it->second) {
    // Read out of order (a seek back): the earlier offset is the first copy.
    it->second = offset;
    order_.emplace_back(offset, moved_from);
    return false;
  }
  return offset > it->second;
}

void MoveDedup::forget_before(std::int64_t offset) {
  while (!order_.empty() && order_.front().first < offset) {
    const auto it = first_.find(order_.front().second);
    if (it != first_.end() && it->second == order_.front().first) first_.erase(it);
    order_.pop_front();
  }
}

}  // namespace outflow::agent::replayer
