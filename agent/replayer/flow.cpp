#include "agent/replayer/flow.h"

#include <algorithm>

namespace outflow::agent::replayer {

FlowGate::Change FlowGate::update(std::int64_t uncommitted) {
  if (!paused_ && uncommitted >= window_) {
    paused_ = true;
    return Change::Pause;
  }
  if (paused_ && uncommitted <= window_ / 2) {
    paused_ = false;
    return Change::Resume;
  }
  return Change::None;
}

CommitPacer::CommitPacer(std::int64_t every, std::int64_t interval_ms)
    : every_(std::max<std::int64_t>(every, 1)), interval_ms_(std::max<std::int64_t>(interval_ms, 0)) {}

void CommitPacer::finished(std::int64_t messages, std::int64_t now_ms) {
  if (messages <= 0) return;
  if (!first_ms_) first_ms_ = now_ms;
  since_ += messages;
}

bool CommitPacer::due(std::int64_t now_ms) const {
  if (!first_ms_) return false;
  return since_ >= every_ || now_ms >= *first_ms_ + interval_ms_;
}

void CommitPacer::committed() {
  since_ = 0;
  first_ms_.reset();
}

std::optional<std::int64_t> CommitPacer::deadline() const {
  if (!first_ms_) return std::nullopt;
  return *first_ms_ + interval_ms_;
}

}  // namespace outflow::agent::replayer
