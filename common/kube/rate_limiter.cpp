#include "common/kube/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace outflow::kube {

namespace {

using duration = RateLimiter::duration;

duration token_interval(double qps) {
  if (!(qps > 0.0) || !std::isfinite(qps)) {
    throw std::invalid_argument("token bucket: qps must be positive and finite");
  }
  const double ticks = std::chrono::duration<double>(1.0 / qps) / duration(1);
  if (ticks >= static_cast<double>(std::numeric_limits<duration::rep>::max())) {
    throw std::invalid_argument("token bucket: qps too small");
  }
  // Rounded, so 10 qps is exactly 100 ms although 1.0 / 10 is not exact in binary.
  return duration(static_cast<duration::rep>(std::llround(ticks)));
}

duration bucket_capacity(duration interval, int burst) {
  if (burst < 1) {
    throw std::invalid_argument("token bucket: burst must be at least 1");
  }
  if (interval.count() > std::numeric_limits<duration::rep>::max() / burst) {
    throw std::invalid_argument("token bucket: burst / qps too large");
  }
  return interval * burst;
}

}  // namespace

// --- ItemExponentialBackoff ---------------------------------------------------

ItemExponentialBackoff::ItemExponentialBackoff(ItemBackoffOptions options) : options_(options) {
  if (options_.base <= duration::zero() || options_.max < options_.base) {
    throw std::invalid_argument("item back-off: need 0 < base <= max");
  }
}

duration ItemExponentialBackoff::when(const std::string& item) {
  std::lock_guard lock(mu_);
  int& count = failures_[item];
  const int exponent = count;
  if (count < std::numeric_limits<int>::max()) ++count;
  return backoff(exponent);
}

void ItemExponentialBackoff::forget(const std::string& item) {
  std::lock_guard lock(mu_);
  failures_.erase(item);
}

int ItemExponentialBackoff::failures(const std::string& item) const {
  std::lock_guard lock(mu_);
  const auto it = failures_.find(item);
  return it == failures_.end() ? 0 : it->second;
}

duration ItemExponentialBackoff::backoff(int exponent) const {
  // base * 2^exponent in integers, without overflow: it exceeds max exactly
  // when base > max / 2^exponent; past 2^62 every positive base does.
  constexpr int kMaxShift = std::numeric_limits<duration::rep>::digits - 1;
  if (exponent >= kMaxShift || options_.base.count() > (options_.max.count() >> exponent)) {
    return options_.max;
  }
  return duration(options_.base.count() << exponent);
}

// --- TokenBucket --------------------------------------------------------------

TokenBucket::TokenBucket(const Clock& clock, TokenBucketOptions options)
    : clock_(clock),
      interval_(token_interval(options.qps)),
      capacity_(bucket_capacity(interval_, options.burst)),
      full_at_(clock.now()) {}

duration TokenBucket::when(const std::string& /*item*/) {
  const auto now = clock_.now();
  std::lock_guard lock(mu_);
  // A bucket that has been full since before `now` holds no credit for it.
  full_at_ = std::max(full_at_, now) + interval_;
  // The token exists once the bucket is less than one full bucket behind.
  return std::max(full_at_ - now - capacity_, duration::zero());
}

void TokenBucket::forget(const std::string& /*item*/) {}

int TokenBucket::failures(const std::string& /*item*/) const { return 0; }

// --- MaxOf --------------------------------------------------------------------

MaxOf::MaxOf(std::vector<std::unique_ptr<RateLimiter>> limiters) : limiters_(std::move(limiters)) {
  if (limiters_.empty()) {
    throw std::invalid_argument("MaxOf: no limiters");
  }
  for (const auto& limiter : limiters_) {
    if (!limiter) throw std::invalid_argument("MaxOf: null limiter");
  }
}

duration MaxOf::when(const std::string& item) {
  // Every limiter must record the attempt, so no short-circuit.
  duration longest = duration::zero();
  for (const auto& limiter : limiters_) {
    longest = std::max(longest, limiter->when(item));
  }
  return longest;
}

void MaxOf::forget(const std::string& item) {
  for (const auto& limiter : limiters_) limiter->forget(item);
}

int MaxOf::failures(const std::string& item) const {
  int most = 0;
  for (const auto& limiter : limiters_) most = std::max(most, limiter->failures(item));
  return most;
}

std::unique_ptr<RateLimiter> make_controller_rate_limiter(const Clock& clock,
                                                          ItemBackoffOptions backoff,
                                                          TokenBucketOptions bucket) {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialBackoff>(backoff));
  limiters.push_back(std::make_unique<TokenBucket>(clock, bucket));
  return std::make_unique<MaxOf>(std::move(limiters));
}

}  // namespace outflow::kube
