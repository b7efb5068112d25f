#include "agent/replayer/schedule.h"

#include <algorithm>
#include <stdexcept>

namespace outflow::agent::replayer {

RetrySchedule::RetrySchedule(const pipeline::DeadLetterSpec& spec) : max_attempts_(spec.max_attempts) {
  const auto& b = spec.backoff;
  if (spec.max_attempts < 1) throw std::invalid_argument("deadLetter.maxAttempts must be at least 1");
  if (b.initial_ms < 1) throw std::invalid_argument("deadLetter.backoff.initialMs must be at least 1");
  if (b.multiplier < 1) throw std::invalid_argument("deadLetter.backoff.multiplier must be at least 1");
  if (b.max_ms < b.initial_ms) throw std::invalid_argument("deadLetter.backoff.maxMs must be at least initialMs");
  // Precomputed once: the replayer asks for a tier's delay for every message.
  std::int64_t delay = b.initial_ms;
  for (int tier = 1; tier <= max_attempts_; ++tier) {
    delays_.emplace_back(delay);
    // delay > max/multiplier (integer division) exactly when delay × multiplier
    // would pass max; testing that first means the product is never formed
    // when it could overflow.
    delay = delay > b.max_ms / b.multiplier ? b.max_ms : delay * b.multiplier;
  }
}

std::chrono::milliseconds RetrySchedule::delay(int tier) const {
  if (tier < 1 || tier > max_attempts_) {
    throw std::out_of_range("retry tier " + std::to_string(tier) + " is not between 1 and " +
                            std::to_string(max_attempts_));
  }
  return delays_[static_cast<std::size_t>(tier - 1)];
}

std::optional<int> RetrySchedule::tier_for_attempt(int attempt) const {
  if (attempt < 1) throw std::invalid_argument("attempt must be at least 1");
  if (attempt > max_attempts_) return std::nullopt;
  return attempt;
}

std::int64_t RetrySchedule::due_ms(int tier, std::int64_t entered_ms) const {
  return entered_ms + delay(tier).count();
}

}  // namespace outflow::agent::replayer
