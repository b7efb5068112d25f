// Where claims start reading while poison rows hold rows back.

#include "agent/publisher/claim_floor.h"

#include <gtest/gtest.h>

using namespace outflow::agent::publisher;
using namespace std::chrono_literals;
using Clock = ClaimFloor::Clock;

namespace {

const auto t0 = Clock::time_point{} + 1000s;

ClaimReport held_back(std::optional<std::int64_t> first_id, std::uint64_t oldest_running, std::uint64_t xmax,
                      std::optional<std::int64_t> max_pending = std::nullopt) {
  ClaimReport r;
  r.held_back_keys = 1;
  r.held_back_fingerprint = "stuck/1";
  r.first_id = first_id;
  r.max_pending = max_pending;
  r.oldest_running_xid = oldest_running;
  r.snapshot_xmax = xmax;
  return r;
}

}  // namespace

TEST(ClaimFloor, WithoutHeldBackRowsClaimsAlwaysStartAtTheBeginning) {
  ClaimFloor floor(60s, t0);
  ClaimReport r;
  r.first_id = 500;
  r.oldest_running_xid = r.snapshot_xmax = 10;
  floor.record(r);
  EXPECT_EQ(floor.start(t0), 0);
}

TEST(ClaimFloor, AClaimInAQuietDatabaseMovesTheFloorBelowItsFirstRow) {
  ClaimFloor floor(60s, t0);
  EXPECT_EQ(floor.start(t0), 0);
  floor.record(held_back(std::nullopt, 10, 10));  // the held-back set is learnt first
  EXPECT_EQ(floor.start(t0), 0);
  floor.record(held_back(300001, 10, 10));
  EXPECT_EQ(floor.start(t0), 300000);
  // Found nothing: every pending row up to the highest is someone else's or held back.
  floor.record(held_back(std::nullopt, 11, 11, 300500));
  EXPECT_EQ(floor.start(t0), 300500);
}

TEST(ClaimFloor, TheClaimThatFirstSeesHeldBackRowsAlreadyProvesAFloor) {
  ClaimFloor floor(60s, t0);
  EXPECT_EQ(floor.start(t0), 0);
  floor.record(held_back(300001, 10, 10));
  EXPECT_EQ(floor.start(t0), 300000);
  // A changed set seen by a claim that started above the beginning proves nothing below it.
  auto changed = held_back(300101, 11, 11);
  changed.held_back_fingerprint = "stuck/1,other/300050";
  floor.record(changed);
  EXPECT_EQ(floor.start(t0), 0);
}

TEST(ClaimFloor, AFloorIsUsedOnlyOnceTransactionsRunningAtItsSnapshotHaveEnded) {
  ClaimFloor floor(60s, t0);
  floor.start(t0);
  floor.record(held_back(std::nullopt, 10, 10));
  floor.start(t0);
  // Transaction 15 was running (it may hold an id below 300001).
  floor.record(held_back(300001, 15, 20));
  EXPECT_EQ(floor.start(t0), 0);
  floor.record(held_back(std::nullopt, 15, 22));
  EXPECT_EQ(floor.start(t0), 0);
  floor.record(held_back(std::nullopt, 20, 23));  // everything before 20 has ended
  EXPECT_EQ(floor.start(t0), 300000);
}

TEST(ClaimFloor, AChangeInTheHeldBackKeysStartsOverFromTheBeginning) {
  ClaimFloor floor(60s, t0);
  floor.start(t0);
  floor.record(held_back(std::nullopt, 10, 10));
  floor.start(t0);
  floor.record(held_back(300001, 10, 10));
  ASSERT_EQ(floor.start(t0), 300000);
  auto fixed = held_back(300100, 11, 11);
  fixed.held_back_fingerprint = "";  // the poison row was fixed: its key's rows are free
  fixed.held_back_keys = 2;
  floor.record(fixed);
  EXPECT_EQ(floor.start(t0), 0);
}

TEST(ClaimFloor, ResetAndTheFullScanIntervalStartOverFromTheBeginning) {
  ClaimFloor floor(60s, t0);
  floor.start(t0);
  floor.record(held_back(std::nullopt, 10, 10));
  floor.start(t0);
  floor.record(held_back(1001, 10, 10));
  ASSERT_EQ(floor.start(t0 + 59s), 1000);
  EXPECT_EQ(floor.start(t0 + 60s), 0);  // catches ids handed out late (sequence caches)
  floor.record(held_back(1001, 10, 10));
  ASSERT_EQ(floor.start(t0 + 61s), 1000);
  floor.reset();  // e.g. the owned buckets changed
  EXPECT_EQ(floor.start(t0 + 61s), 0);
}
