#include "agent/status/material_change.h"

#include <algorithm>

namespace outflow::agent {

bool coarse_change(std::optional<std::int64_t> written, std::optional<std::int64_t> now) {
  if (written.has_value() != now.has_value()) return true;
  if (!written) return false;
  const std::int64_t a = std::max<std::int64_t>(*written, 1);
  const std::int64_t b = std::max<std::int64_t>(*now, 1);
  const std::int64_t low = std::min(a, b);
  const std::int64_t high = std::max(a, b);
  // high >= 10 * low, without overflowing for counts near INT64_MAX.
  return high / 10 >= low;
}

bool material_change(const AgentState& written, const AgentState& current) {
  if (current.breaker != written.breaker || current.breaker_since != written.breaker_since) return true;
  if (current.last_error != written.last_error) return true;
  // Each parked message waits for a person; they are rare, so each is news.
  if (current.parked_total != written.parked_total) return true;
  // Dead letters are the exception, not traffic: "some pending" against
  // "none" is news both ways, and moves in between are coarse.
  if ((written.dlq_pending == 0) != (current.dlq_pending == 0)) return true;
  return coarse_change(written.outbox_backlog, current.outbox_backlog) ||
         coarse_change(written.oldest_pending_age_seconds, current.oldest_pending_age_seconds) ||
         coarse_change(written.dlq_pending, current.dlq_pending) ||
         coarse_change(written.published_total, current.published_total);
}

}  // namespace outflow::agent
