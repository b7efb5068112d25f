#pragma once

// The dead-letter replayer's retry ladder (DESIGN.md, "Dead-letter replayer"),
// as pure functions of the pipeline's deadLetter block: no I/O, no clock of its
// own. Times are milliseconds since the Unix epoch because they are compared
// with Kafka message timestamps, which are wall-clock.
//
// Attempts and tiers. `outflow-attempt` is the number of the processing attempt
// that failed (absent = 1: the first delivery). A dead letter whose attempt a
// is at most maxAttempts waits in tier a (`<dlq>.retry.<a>`, the topic the
// operator creates for "the a-th retry") and is then republished as attempt
// a + 1; one with a > maxAttempts has used up its maxAttempts retries and is
// parked. So a message is processed at most maxAttempts + 1 times, and every
// tier the operator creates (1..maxAttempts) is used.
//
// Each tier has one fixed delay, so the messages of a tier partition become
// due in the order they entered it: the replayer only ever waits for the head
// of a partition, and a long tier never holds back a short one.

#include "common/pipeline/dead_letter_topics.h"
#include "common/pipeline/spec.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace outflow::agent::replayer {

// The tier and parked topics, spelled as the operator creates them.
using pipeline::parked_topic;
using pipeline::retry_tier_topic;

class RetrySchedule {
 public:
  // `spec` as parse_spec returns it (max_attempts >= 1, initial_ms >= 1,
  // multiplier >= 1, max_ms >= initial_ms); throws std::invalid_argument otherwise.
  explicit RetrySchedule(const pipeline::DeadLetterSpec& spec);

  int max_attempts() const { return max_attempts_; }

  // min(initialMs × multiplier^(tier-1), maxMs), for 1 <= tier <= maxAttempts;
  // computed step by step so that tier 50 with multiplier 10 cannot overflow.
  std::chrono::milliseconds delay(int tier) const;

  // The tier a dead letter whose `attempt`-th attempt failed waits in; nullopt
  // once its retries are used up (attempt > maxAttempts). attempt >= 1.
  std::optional<int> tier_for_attempt(int attempt) const;

  // When a message that entered `tier` at `entered_ms` (its timestamp in the
  // tier topic) may be republished.
  std::int64_t due_ms(int tier, std::int64_t entered_ms) const;

 private:
  int max_attempts_;
  std::vector<std::chrono::milliseconds> delays_;  // [tier - 1]
};

}  // namespace outflow::agent::replayer
