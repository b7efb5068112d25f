#include "agent/status/material_change.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>

namespace {

using outflow::agent::AgentState;
using outflow::agent::coarse_change;
using outflow::agent::material_change;
using namespace std::chrono_literals;

TEST(CoarseChange, KnownVersusUnknownIsAChange) {
  EXPECT_TRUE(coarse_change(std::nullopt, 0));
  EXPECT_TRUE(coarse_change(5, std::nullopt));
  EXPECT_FALSE(coarse_change(std::nullopt, std::nullopt));
}

TEST(CoarseChange, ATenfoldMoveEitherWayIsAChangeCountingZeroAsOne) {
  EXPECT_FALSE(coarse_change(0, 9));
  EXPECT_TRUE(coarse_change(0, 10));
  EXPECT_TRUE(coarse_change(10, 0));
  EXPECT_FALSE(coarse_change(11, 109));
  EXPECT_TRUE(coarse_change(11, 110));
  EXPECT_FALSE(coarse_change(10'000, 1'001));
  EXPECT_TRUE(coarse_change(10'000, 1'000));
  EXPECT_FALSE(coarse_change(42, 42));
}

TEST(CoarseChange, WobblingAroundABoundaryIsNoNews) {
  // Measured from the value written: 9 -> 10 -> 9 -> 11 never moved tenfold.
  for (const std::int64_t now : {10, 9, 11, 12, 8}) EXPECT_FALSE(coarse_change(9, now)) << now;
}

TEST(CoarseChange, HugeCountsDoNotOverflow) {
  const auto max = std::numeric_limits<std::int64_t>::max();
  EXPECT_FALSE(coarse_change(max, max - 1));
  EXPECT_TRUE(coarse_change(max / 10, max / 100));
  EXPECT_TRUE(coarse_change(0, max));
  EXPECT_FALSE(coarse_change(-5, 0));  // never negative in practice: counts as 1
}

TEST(MaterialChange, TheBreakerAndTheLastErrorAlwaysCount) {
  const AgentState before;
  AgentState open = before;
  open.breaker = outflow::breaker::State::Open;
  EXPECT_TRUE(material_change(before, open));
  AgentState reopened = before;
  reopened.breaker_since = std::chrono::system_clock::time_point{} + 1h;
  EXPECT_TRUE(material_change(before, reopened));
  AgentState failing = before;
  failing.last_error = "broker refused the batch";
  EXPECT_TRUE(material_change(before, failing));
  EXPECT_TRUE(material_change(failing, before)) << "an error that cleared is news too";
}

// A status that says publishedTotal 0 after an agent published its first
// rows reads as "nothing moves": a fast agent drained them before the
// backlog count ever saw them, so no other news carried the total. Once per
// tenfold growth keeps it true to an order of magnitude at a handful of
// writes in a pod's life.
TEST(MaterialChange, PublishedTotalIsNewsOncePerTenfoldGrowth) {
  AgentState before;
  AgentState after = before;
  after.published_total = 200;
  EXPECT_TRUE(material_change(before, after)) << "0 -> 200 published";
  before.published_total = 200;
  after.published_total = 1'999;
  EXPECT_FALSE(material_change(before, after));
  after.published_total = 2'000;
  EXPECT_TRUE(material_change(before, after));
}

TEST(MaterialChange, SteadyPublishingIsNotNewsButABacklogOrDeadLettersPilingUpIs) {
  AgentState before;
  before.outbox_backlog = 2;
  before.oldest_pending_age_seconds = 1;
  before.published_total = 900'000;
  AgentState after = before;
  after.published_total = 1'000'000;
  after.outbox_backlog = 7;
  EXPECT_FALSE(material_change(before, after));
  after.outbox_backlog = 20'000;
  EXPECT_TRUE(material_change(before, after));
  AgentState dead_letters = before;
  dead_letters.dlq_pending = 50;
  EXPECT_TRUE(material_change(before, dead_letters));
  AgentState parked = before;
  parked.parked_total = 10;
  EXPECT_TRUE(material_change(before, parked));
  AgentState stuck = before;
  stuck.oldest_pending_age_seconds = 600;
  EXPECT_TRUE(material_change(before, stuck));
}

// Seen in CI: a message parked and the dead letters drained, and the entry
// still said "dlqPending 2, parkedTotal 0" for good, because 0 -> 1 parked
// and 2 -> 0 pending were no tenfold moves. Every parked message waits for a
// person, and "dead letters pending" against "none" is what one looks for.
TEST(MaterialChange, EveryParkedMessageAndDeadLettersComingToNoneOrLeavingItAreNews) {
  AgentState before;
  before.dlq_pending = 2;
  before.parked_total = 0;
  AgentState parked = before;
  parked.parked_total = 1;
  EXPECT_TRUE(material_change(before, parked)) << "0 -> 1 parked";
  before.parked_total = 41;
  parked.parked_total = 42;
  EXPECT_TRUE(material_change(before, parked)) << "41 -> 42 parked";

  AgentState drained = before;
  drained.dlq_pending = 0;
  EXPECT_TRUE(material_change(before, drained)) << "2 -> 0 pending";
  EXPECT_TRUE(material_change(drained, before)) << "0 -> 2 pending";
  AgentState fewer = before;
  before.dlq_pending = 30;
  fewer.dlq_pending = 5;
  EXPECT_FALSE(material_change(before, fewer)) << "30 -> 5 pending: still some, not tenfold";
}

}  // namespace
