// How often a caught-up publisher reads again under a NOTIFY storm.

#include "agent/publisher/claim_pacer.h"

#include <gtest/gtest.h>

using namespace outflow::agent::publisher;
using namespace std::chrono_literals;
using Clock = ClaimPacer::Clock;

namespace {

const auto t0 = Clock::time_point{} + 1000s;

PacerSettings settings() {
  PacerSettings s;
  s.busy_above = 1000;
  s.quiet_below = 500;
  s.gap = 4ms;
  s.horizon = 100ms;
  return s;
}

// One claim every `every`, each returning `rows`, for `count` claims from `from`.
Clock::time_point claims(ClaimPacer& pacer, Clock::time_point from, Clock::duration every, std::size_t rows,
                         int count) {
  auto t = from;
  for (int i = 0; i < count; ++i) {
    t += every;
    pacer.claimed(t, rows);
  }
  return t;
}

}  // namespace

TEST(ClaimPacer, AFirstWakeUpClaimsAtOnce) {
  ClaimPacer pacer(settings());
  EXPECT_EQ(pacer.earliest(t0), t0);
}

TEST(ClaimPacer, AtLowRatesEveryWakeUpClaimsAtOnce) {
  // 500 rows/s, one row per NOTIFY: the latency stays what it was.
  ClaimPacer pacer(settings());
  const auto t = claims(pacer, t0, 2ms, 1, 500);
  EXPECT_FALSE(pacer.busy()) << pacer.rate();
  EXPECT_EQ(pacer.earliest(t + 100us), t + 100us);
}

TEST(ClaimPacer, UnderANotifyStormClaimsComeOneGapApart) {
  // 2,000 rows/s in single-row commits, each claimed at once at first.
  ClaimPacer pacer(settings());
  const auto t = claims(pacer, t0, 500us, 1, 1000);  // half a second: five horizons
  EXPECT_TRUE(pacer.busy()) << pacer.rate();
  EXPECT_NEAR(pacer.rate(), 2000, 100);
  EXPECT_EQ(pacer.earliest(t + 500us), t + 4ms);
  EXPECT_EQ(pacer.earliest(t + 5ms), t + 5ms) << "a gap already past holds nothing up";
}

TEST(ClaimPacer, PacedClaimsThatKeepFindingRowsStayPaced) {
  ClaimPacer pacer(settings());
  auto t = claims(pacer, t0, 500us, 1, 400);
  ASSERT_TRUE(pacer.busy());
  // Now one claim per gap, each bringing the 8 rows that came meanwhile.
  t = claims(pacer, t, 4ms, 8, 200);
  EXPECT_TRUE(pacer.busy()) << pacer.rate();
  EXPECT_NEAR(pacer.rate(), 2000, 200);
}

TEST(ClaimPacer, WhenTheStormPassesWakeUpsClaimAtOnceAgain) {
  ClaimPacer pacer(settings());
  auto t = claims(pacer, t0, 500us, 1, 400);
  ASSERT_TRUE(pacer.busy());
  t = claims(pacer, t, 4ms, 1, 100);  // 250 rows/s
  EXPECT_FALSE(pacer.busy()) << pacer.rate();
  EXPECT_EQ(pacer.earliest(t + 1ms), t + 1ms);
}

TEST(ClaimPacer, OneWakeUpAfterAQuietSpellIsNotAStorm) {
  ClaimPacer pacer(settings());
  auto t = claims(pacer, t0, 500us, 1, 400);
  ASSERT_TRUE(pacer.busy());
  t += 10s;
  pacer.claimed(t, 1);
  EXPECT_FALSE(pacer.busy()) << pacer.rate();
}

TEST(ClaimPacer, BetweenTheThresholdsTheStateHolds) {
  // 700 rows/s: busy stays busy and quiet stays quiet (no flapping).
  ClaimPacer fresh(settings());
  claims(fresh, t0, 10ms, 7, 100);
  EXPECT_FALSE(fresh.busy()) << fresh.rate();
  ClaimPacer busy(settings());
  const auto t = claims(busy, t0, 500us, 1, 400);
  ASSERT_TRUE(busy.busy());
  claims(busy, t, 10ms, 7, 100);
  EXPECT_TRUE(busy.busy()) << busy.rate();
}
