#include "agent/publisher/claim_pacer.h"

#include <algorithm>
#include <cmath>

namespace outflow::agent::publisher {

void ClaimPacer::claimed(Clock::time_point now, std::size_t rows) {
  if (last_claim_) {
    const double dt = std::chrono::duration<double>(std::max(now - *last_claim_, Clock::duration::zero())).count();
    const double horizon = std::chrono::duration<double>(settings_.horizon).count();
    // Weighted by the time the sample covers: the rows read in the last
    // horizon or so, per second, however irregular the claims are.
    const double weight = 1.0 - std::exp(-dt / horizon);
    const double sample = dt > 0 ? static_cast<double>(rows) / dt : 0.0;
    rate_ = dt > 0 ? rate_ + weight * (sample - rate_) : rate_ + static_cast<double>(rows) / horizon;
  }
  last_claim_ = now;
  if (rate_ >= settings_.busy_above) busy_ = true;
  if (rate_ < settings_.quiet_below) busy_ = false;
}

ClaimPacer::Clock::time_point ClaimPacer::earliest(Clock::time_point now) const {
  if (!busy_ || !last_claim_) return now;
  return std::max(now, *last_claim_ + std::chrono::duration_cast<Clock::duration>(settings_.gap));
}

}  // namespace outflow::agent::publisher
