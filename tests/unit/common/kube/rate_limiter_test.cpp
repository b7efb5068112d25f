#include "common/kube/rate_limiter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace outflow::kube;
using namespace std::chrono_literals;
using outflow::ManualClock;
using Duration = RateLimiter::duration;

// --- ManualClock (common/clock.h) ----------------------------------------------

TEST(ManualClock, MovesOnlyWhenAdvanced) {
  ManualClock clock;
  const auto start = clock.now();
  EXPECT_EQ(clock.now(), start);
  clock.advance(250ms);
  EXPECT_EQ(clock.now() - start, 250ms);
  clock.advance(0s);
  EXPECT_EQ(clock.now() - start, 250ms);
}

TEST(ManualClock, StartsWhereToldAndRefusesToGoBack) {
  const auto start = ManualClock::time_point{} + 1h;
  ManualClock clock(start);
  EXPECT_EQ(clock.now(), start);
  EXPECT_THROW(clock.advance(-1ns), std::invalid_argument);
  EXPECT_EQ(clock.now(), start);
}

// --- ItemExponentialBackoff ----------------------------------------------------

TEST(RateLimiterItemBackoff, DoublesFromFiveMillisecondsPerFailure) {
  ItemExponentialBackoff backoff;
  EXPECT_EQ(backoff.failures("ns/a"), 0);
  EXPECT_EQ(backoff.when("ns/a"), Duration(5ms));
  EXPECT_EQ(backoff.when("ns/a"), Duration(10ms));
  EXPECT_EQ(backoff.when("ns/a"), Duration(20ms));
  EXPECT_EQ(backoff.when("ns/a"), Duration(40ms));
  EXPECT_EQ(backoff.when("ns/a"), Duration(80ms));
  EXPECT_EQ(backoff.failures("ns/a"), 5);
}

TEST(RateLimiterItemBackoff, CapsAtOneThousandSecondsByDefault) {
  ItemExponentialBackoff backoff;
  // 5 ms * 2^17 = 655.36 s is the last uncapped step; 5 ms * 2^18 would be 1310.72 s.
  for (int i = 0; i < 17; ++i) backoff.when("ns/a");
  EXPECT_EQ(backoff.when("ns/a"), Duration(655360ms));
  EXPECT_EQ(backoff.when("ns/a"), Duration(1000s));
  // Far past the point where 2^failures overflows 64 bits, still the cap.
  for (int i = 0; i < 200; ++i) EXPECT_EQ(backoff.when("ns/a"), Duration(1000s));
}

TEST(RateLimiterItemBackoff, BaseAndCapAreConfigurable) {
  ItemExponentialBackoff backoff({.base = 1s, .max = 3s});
  EXPECT_EQ(backoff.when("x"), Duration(1s));
  EXPECT_EQ(backoff.when("x"), Duration(2s));
  EXPECT_EQ(backoff.when("x"), Duration(3s));
  EXPECT_EQ(backoff.when("x"), Duration(3s));
}

TEST(RateLimiterItemBackoff, TracksEachItemSeparately) {
  ItemExponentialBackoff backoff;
  backoff.when("ns/a");
  backoff.when("ns/a");
  EXPECT_EQ(backoff.when("ns/b"), Duration(5ms));
  EXPECT_EQ(backoff.when("ns/a"), Duration(20ms));
  EXPECT_EQ(backoff.failures("ns/a"), 3);
  EXPECT_EQ(backoff.failures("ns/b"), 1);
}

TEST(RateLimiterItemBackoff, ForgetStartsTheSequenceAgain) {
  ItemExponentialBackoff backoff;
  backoff.when("ns/a");
  backoff.when("ns/a");
  backoff.when("ns/b");
  backoff.forget("ns/a");
  EXPECT_EQ(backoff.failures("ns/a"), 0);
  EXPECT_EQ(backoff.when("ns/a"), Duration(5ms));
  EXPECT_EQ(backoff.failures("ns/b"), 1) << "forget touches only its own item";
}

TEST(RateLimiterItemBackoff, RejectsNonPositiveBaseOrCapBelowBase) {
  EXPECT_THROW(ItemExponentialBackoff({.base = 0ms, .max = 1s}), std::invalid_argument);
  EXPECT_THROW(ItemExponentialBackoff({.base = 2s, .max = 1s}), std::invalid_argument);
}

// --- TokenBucket -----------------------------------------------------------------

TEST(RateLimiterTokenBucket, BurstIsFreeThenTokensAreSpacedByOneOverQps) {
  ManualClock clock;
  TokenBucket bucket(clock);  // 10 qps, burst 100
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(bucket.when("item-" + std::to_string(i)), Duration::zero()) << "token " << i;
  }
  // Later callers reserve future tokens, one every 100 ms.
  EXPECT_EQ(bucket.when("a"), Duration(100ms));
  EXPECT_EQ(bucket.when("b"), Duration(200ms));
  EXPECT_EQ(bucket.when("c"), Duration(300ms));
}

TEST(RateLimiterTokenBucket, RefillsAtQpsUpToTheBurstOnly) {
  ManualClock clock;
  TokenBucket bucket(clock, {.qps = 2, .burst = 3});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(bucket.when("x"), Duration::zero());
  EXPECT_EQ(bucket.when("x"), Duration(500ms));  // reserved: the bucket owes one token

  clock.advance(1500ms);  // three tokens refilled, one already owed: two free
  EXPECT_EQ(bucket.when("x"), Duration::zero());
  EXPECT_EQ(bucket.when("x"), Duration::zero());
  EXPECT_EQ(bucket.when("x"), Duration(500ms));

  clock.advance(1h);  // a long rest refills the burst, not an hour's worth
  for (int i = 0; i < 3; ++i) ASSERT_EQ(bucket.when("x"), Duration::zero());
  EXPECT_EQ(bucket.when("x"), Duration(500ms));
}

TEST(RateLimiterTokenBucket, IsSharedByAllItemsAndRemembersNone) {
  ManualClock clock;
  TokenBucket bucket(clock, {.qps = 1, .burst = 1});
  EXPECT_EQ(bucket.when("ns/a"), Duration::zero());
  EXPECT_EQ(bucket.when("ns/b"), Duration(1s)) << "another item waits for the same bucket";
  bucket.forget("ns/a");
  EXPECT_EQ(bucket.when("ns/a"), Duration(2s)) << "forget does not give tokens back";
  EXPECT_EQ(bucket.failures("ns/a"), 0);
}

TEST(RateLimiterTokenBucket, RejectsNonsenseRates) {
  ManualClock clock;
  EXPECT_THROW(TokenBucket(clock, {.qps = 0, .burst = 1}), std::invalid_argument);
  EXPECT_THROW(TokenBucket(clock, {.qps = -1, .burst = 1}), std::invalid_argument);
  EXPECT_THROW(TokenBucket(clock, {.qps = std::numeric_limits<double>::infinity(), .burst = 1}),
               std::invalid_argument);
  EXPECT_THROW(TokenBucket(clock, {.qps = std::numeric_limits<double>::quiet_NaN(), .burst = 1}),
               std::invalid_argument);
  EXPECT_THROW(TokenBucket(clock, {.qps = 1e-30, .burst = 1}), std::invalid_argument);
  EXPECT_THROW(TokenBucket(clock, {.qps = 10, .burst = 0}), std::invalid_argument);
}

// --- MaxOf and the controller default --------------------------------------------

TEST(RateLimiterMaxOf, AnswersTheLongerDelayAndEveryLimiterCounts) {
  ManualClock clock;
  std::vector<std::unique_ptr<RateLimiter>> parts;
  parts.push_back(std::make_unique<ItemExponentialBackoff>());
  parts.push_back(std::make_unique<TokenBucket>(clock, TokenBucketOptions{.qps = 1, .burst = 2}));
  MaxOf limiter(std::move(parts));

  EXPECT_EQ(limiter.when("ns/a"), Duration(5ms));   // back-off 5 ms, bucket 0
  EXPECT_EQ(limiter.when("ns/a"), Duration(10ms));  // back-off 10 ms, bucket 0 (burst used up)
  EXPECT_EQ(limiter.when("ns/a"), Duration(1s));    // back-off 20 ms, bucket 1 s
  EXPECT_EQ(limiter.failures("ns/a"), 3);
}

TEST(RateLimiterMaxOf, ForgetReachesEveryLimiter) {
  ManualClock clock;
  std::vector<std::unique_ptr<RateLimiter>> parts;
  parts.push_back(std::make_unique<ItemExponentialBackoff>());
  parts.push_back(
      std::make_unique<ItemExponentialBackoff>(ItemBackoffOptions{.base = 1s, .max = 1h}));
  MaxOf limiter(std::move(parts));
  EXPECT_EQ(limiter.when("ns/a"), Duration(1s));
  EXPECT_EQ(limiter.when("ns/a"), Duration(2s));
  limiter.forget("ns/a");
  EXPECT_EQ(limiter.failures("ns/a"), 0);
  EXPECT_EQ(limiter.when("ns/a"), Duration(1s));
}

TEST(RateLimiterMaxOf, RejectsAnEmptyOrNullList) {
  EXPECT_THROW(MaxOf({}), std::invalid_argument);
  std::vector<std::unique_ptr<RateLimiter>> with_null;
  with_null.push_back(nullptr);
  EXPECT_THROW(MaxOf(std::move(with_null)), std::invalid_argument);
}

TEST(RateLimiterController, IsPerItemBackoffUnderAnOverallBucket) {
  ManualClock clock;
  auto limiter = make_controller_rate_limiter(clock);
  EXPECT_EQ(limiter->when("ns/a"), Duration(5ms));
  EXPECT_EQ(limiter->when("ns/a"), Duration(10ms));
  // 98 more distinct items use up the burst of 100 ...
  for (int i = 0; i < 98; ++i) {
    ASSERT_EQ(limiter->when("ns/item-" + std::to_string(i)), Duration(5ms));
  }
  // ... so a fresh item now waits for the bucket (100 ms) rather than its own 5 ms.
  EXPECT_EQ(limiter->when("ns/fresh"), Duration(100ms));
  limiter->forget("ns/a");
  EXPECT_EQ(limiter->failures("ns/a"), 0);
}
