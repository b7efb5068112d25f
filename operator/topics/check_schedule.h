#pragma once

// When the operator next asks Kafka about a pipeline's topics. Agents write
// their status every few seconds and every write wakes the reconciler; going to
// the broker each time would turn N pipelines into a steady stream of metadata
// and DescribeConfigs requests, and with a dead broker each attempt holds a
// worker for the whole request timeout. So a pipeline's topics are checked:
//  - at once when its spec (generation) or the Secrets it connects with change;
//  - every `resync` while everything is Ready (drift correction);
//  - every `pending_retry` while a planned change has not shown up yet
//    (topic metadata lags behind CreateTopics);
//  - after a failed attempt (broker unreachable), with a back-off that doubles
//    from `initial_backoff` up to `max_backoff`: no hot loop.

#include "common/clock.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace outflow::op::topics {

enum class CheckOutcome { Ready, Pending, Refused, Unreachable };

struct CheckHistory {
  std::int64_t generation = 0;
  std::string connection;  // connection_key() the check used
  Clock::time_point at{};
  CheckOutcome outcome = CheckOutcome::Ready;
  int consecutive_failures = 0;  // Unreachable outcomes in a row
};

struct CheckPolicy {
  std::chrono::milliseconds resync{std::chrono::minutes(10)};
  // Short: right after CreateTopics the change is usually visible within a
  // few hundred milliseconds, and this is what a user waits for to see Ready.
  std::chrono::milliseconds pending_retry{std::chrono::milliseconds(500)};
  std::chrono::milliseconds initial_backoff{std::chrono::seconds(1)};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(5)};
};

// When the next check is due given the last one (nullopt: never checked, due now).
Clock::time_point next_check(const std::optional<CheckHistory>& last, const CheckPolicy& policy);

// Whether to check now: a new generation or connection, or next_check() has come.
bool check_due(const std::optional<CheckHistory>& last, std::int64_t generation,
               const std::string& connection, Clock::time_point now, const CheckPolicy& policy);

// The history after a check with `outcome` at `now`.
CheckHistory record_check(const std::optional<CheckHistory>& last, std::int64_t generation,
                          const std::string& connection, CheckOutcome outcome, Clock::time_point now);

}  // namespace outflow::op::topics
