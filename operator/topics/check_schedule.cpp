#include "operator/topics/check_schedule.h"

#include <algorithm>

namespace outflow::op::topics {

Clock::time_point next_check(const std::optional<CheckHistory>& last, const CheckPolicy& policy) {
  if (!last) return Clock::time_point::min();
  switch (last->outcome) {
    case CheckOutcome::Ready:
    case CheckOutcome::Refused:  // needs a spec change from the user; the resync notices others
      return last->at + policy.resync;
    case CheckOutcome::Pending:
      return last->at + policy.pending_retry;
    case CheckOutcome::Unreachable: {
      auto backoff = policy.initial_backoff;
      for (int i = 1; i < last->consecutive_failures && backoff < policy.max_backoff; ++i) backoff *= 2;
      return last->at + std::min(backoff, policy.max_backoff);
    }
  }
  return last->at;
}

bool check_due(const std::optional<CheckHistory>& last, std::int64_t generation,
               const std::string& connection, Clock::time_point now, const CheckPolicy& policy) {
  if (!last || last->generation != generation || last->connection != connection) return true;
  return now >= next_check(last, policy);
}

CheckHistory record_check(const std::optional<CheckHistory>& last, std::int64_t generation,
                          const std::string& connection, CheckOutcome outcome, Clock::time_point now) {
  CheckHistory next{generation, connection, now, outcome, 0};
  if (outcome == CheckOutcome::Unreachable) {
    const bool same_target = last && last->connection == connection;
    next.consecutive_failures =
        (same_target && last->outcome == CheckOutcome::Unreachable ? last->consecutive_failures : 0) + 1;
  }
  return next;
}

}  // namespace outflow::op::topics
