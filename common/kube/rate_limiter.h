#pragma once

// How long a controller waits before it retries an item. Two concerns, two
// limiters, combined the way client-go's default controller rate limiter does:
//  - per item, exponential back-off, so one broken EventPipeline retries at
//    5 ms, 10 ms, 20 ms, ... up to ~16 min instead of hot-looping against the
//    API server or Kafka;
//  - overall, a token bucket, so a thousand items failing at once (a broker
//    outage) are spread out instead of retried in one burst.
// MaxOf takes the larger delay of the two.
//
// Limiters read time only through an injected Clock, and are thread-safe: the
// work queue's workers call them concurrently.

#include "common/clock.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace outflow::kube {

class RateLimiter {
 public:
  using duration = Clock::duration;

  virtual ~RateLimiter() = default;

  // The delay before `item` may be processed again. Records the attempt: the
  // next call for the same item may answer a longer delay.
  virtual duration when(const std::string& item) = 0;

  // The item was processed successfully: drop what is remembered about it, so
  // its next failure starts the back-off from the beginning.
  virtual void forget(const std::string& item) = 0;

  // when() calls for `item` since the last forget().
  virtual int failures(const std::string& item) const = 0;
};

struct ItemBackoffOptions {
  Clock::duration base = std::chrono::milliseconds(5);
  Clock::duration max = std::chrono::seconds(1000);
};

// Per item: base * 2^failures, capped at max. Needs no clock: the delay depends
// only on how many times the item failed. Remembers every item until it is
// forgotten, so callers must forget() on success.
class ItemExponentialBackoff final : public RateLimiter {
 public:
  // Throws std::invalid_argument unless 0 < base <= max.
  explicit ItemExponentialBackoff(ItemBackoffOptions options = {});

  duration when(const std::string& item) override;
  void forget(const std::string& item) override;
  int failures(const std::string& item) const override;

 private:
  duration backoff(int failures) const;

  const ItemBackoffOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int> failures_;
};

struct TokenBucketOptions {
  double qps = 10.0;  // sustained rate
  int burst = 100;    // tokens available at once
};

// Overall: every when() takes a token, whichever the item, and answers how long
// until that token exists. A token not yet refilled is reserved rather than
// refused, like golang.org/x/time/rate's Reserve(): with the defaults the first
// 100 calls answer 0, then 100 ms, 200 ms, ...; a second of rest frees 10 more.
// Items are not tracked: forget() does nothing and failures() is 0.
class TokenBucket final : public RateLimiter {
 public:
  // Throws std::invalid_argument unless qps is positive and finite (and not so
  // small that one token's interval overflows a duration) and burst >= 1.
  explicit TokenBucket(const Clock& clock, TokenBucketOptions options = {});
  // Keeps a reference to the clock: a temporary one would dangle.
  explicit TokenBucket(const Clock&& clock, TokenBucketOptions options = {}) = delete;

  duration when(const std::string& item) override;
  void forget(const std::string& item) override;
  int failures(const std::string& item) const override;

 private:
  const Clock& clock_;
  const duration interval_;  // time to refill one token: 1 s / qps
  const duration capacity_;  // time to refill an empty bucket: burst * interval
  mutable std::mutex mu_;
  // When the bucket is full again, counting every token taken so far (the
  // "theoretical arrival time" of GCRA). Integer time instead of a floating-point
  // token count, so delays are exact multiples of interval_.
  Clock::time_point full_at_;
};

// Asks every limiter (each records the attempt) and answers the longest delay;
// forget() reaches all of them; failures() is the largest count.
class MaxOf final : public RateLimiter {
 public:
  // Throws std::invalid_argument when `limiters` is empty or holds a null.
  explicit MaxOf(std::vector<std::unique_ptr<RateLimiter>> limiters);

  duration when(const std::string& item) override;
  void forget(const std::string& item) override;
  int failures(const std::string& item) const override;

 private:
  const std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

// client-go's DefaultControllerRateLimiter: MaxOf(per-item back-off 5 ms..1000 s,
// token bucket 10 qps burst 100), each configurable.
std::unique_ptr<RateLimiter> make_controller_rate_limiter(const Clock& clock,
                                                          ItemBackoffOptions backoff = {},
                                                          TokenBucketOptions bucket = {});

}  // namespace outflow::kube
