// When the publisher reads its next batch while earlier ones are in flight.

#include "agent/publisher/drain_window.h"

#include <gtest/gtest.h>

using namespace outflow::agent::publisher;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const auto t0 = Clock::time_point{} + 1000s;

// A chain that may grow: one full batch in flight, read in a quiet snapshot.
DrainState growing() {
  DrainState s;
  s.in_flight = 1;
  s.last_claim_full = true;
  s.last_claim_quiet = true;
  s.chain_started = t0;
  return s;
}

}  // namespace

TEST(DrainWindow, WithNothingInFlightAndEverythingMarkedTheClaimStartsFromTheFloor) {
  DrainState s;
  EXPECT_EQ(next_claim(s, {}, t0), NextClaim::FromFloor);
  // Even straight after a chain with trouble: the floor reads its rows again.
  s.trouble = true;
  s.chain_started = t0;
  EXPECT_EQ(next_claim(s, {}, t0), NextClaim::FromFloor);
}

TEST(DrainWindow, ABacklogReadsTheNextBatchWhileEarlierOnesAreInFlight) {
  DrainSettings settings;
  settings.max_batches = 3;
  auto s = growing();
  EXPECT_EQ(next_claim(s, settings, t0 + 1ms), NextClaim::AfterChain);
  s.in_flight = 2;
  EXPECT_EQ(next_claim(s, settings, t0 + 1ms), NextClaim::AfterChain);
  // Marks of a settled batch still to write do not hold the chain up either.
  s.marks_pending = true;
  EXPECT_EQ(next_claim(s, settings, t0 + 1ms), NextClaim::AfterChain);
}

TEST(DrainWindow, TheWindowIsBounded) {
  DrainSettings settings;
  settings.max_batches = 2;
  auto s = growing();
  s.in_flight = 2;
  EXPECT_EQ(next_claim(s, settings, t0), NextClaim::Wait);
}

TEST(DrainWindow, APartialBatchMeansCaughtUpAndTheWindowDrainsFirst) {
  auto s = growing();
  s.last_claim_full = false;
  EXPECT_EQ(next_claim(s, {}, t0), NextClaim::Wait);
}

TEST(DrainWindow, AWriterRunningAtTheLastSnapshotEndsTheChain) {
  // It may still commit a row below the chain's highest id: only a claim
  // from the floor, once nothing is in flight, reads it in id order.
  auto s = growing();
  s.last_claim_quiet = false;
  EXPECT_EQ(next_claim(s, {}, t0), NextClaim::Wait);
}

TEST(DrainWindow, TroubleInTheChainStopsItUntilTheWindowIsEmptyAndMarked) {
  auto s = growing();
  s.trouble = true;
  EXPECT_EQ(next_claim(s, {}, t0), NextClaim::Wait);
  s.in_flight = 0;
  s.marks_pending = true;
  EXPECT_EQ(next_claim(s, {}, t0), NextClaim::Wait) << "acknowledged rows are still pending in the table";
  s.marks_pending = false;
  EXPECT_EQ(next_claim(s, {}, t0), NextClaim::FromFloor);
}

TEST(DrainWindow, ABreakerNotClosedOrADueRebalanceStopsTheChain) {
  auto s = growing();
  s.breaker_closed = false;
  EXPECT_EQ(next_claim(s, {}, t0), NextClaim::Wait);
  s = growing();
  s.rebalance_due = true;
  EXPECT_EQ(next_claim(s, {}, t0), NextClaim::Wait);
}

TEST(DrainWindow, AChainEndsAfterItsLimitSoARowCommittedOutOfOrderWaitsNoLonger) {
  DrainSettings settings;
  settings.chain_limit = 1000ms;
  auto s = growing();
  EXPECT_EQ(next_claim(s, settings, t0 + 999ms), NextClaim::AfterChain);
  EXPECT_EQ(next_claim(s, settings, t0 + 1000ms), NextClaim::Wait);
}

TEST(DrainWindow, WithoutAChainThereIsNothingToReadAfter) {
  auto s = growing();
  s.chain_started.reset();
  EXPECT_EQ(next_claim(s, {}, t0), NextClaim::Wait);
}
