#include "bench/peers/targets.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace outflow::bench {
namespace {

// A copy: callers pass the temporary judge_targets returns.
TargetVerdict verdict(const std::vector<TargetVerdict>& all, const std::string& starts_with) {
  for (const auto& v : all) {
    if (v.target.rfind(starts_with, 0) == 0) return v;
  }
  throw std::runtime_error("no target " + starts_with);
}

TEST(BenchTargets, ADrainOnABusyMachineMissesTheRatioAndNamesTheMachine) {
  TargetFigures f;
  f.agent = DrainShare{56000, 0.97};
  f.poller = DrainShare{14700, 0.6};
  f.debezium = DrainShare{6000, 0.8};
  const auto all = judge_targets(f);
  const auto poller = verdict(all, "one agent drains ≥ 5×");
  EXPECT_FALSE(poller.met);
  EXPECT_EQ(poller.measured, "3.8× (56000 against 14700 rows/s)");
  EXPECT_NE(poller.bound.find("all cores were 97 % busy"), std::string::npos) << poller.bound;
  const auto debezium = verdict(all, "one agent drains ≥ 8×");
  EXPECT_TRUE(debezium.met);
  EXPECT_TRUE(debezium.bound.empty());
  EXPECT_TRUE(verdict(all, "one agent drains ≥ 50,000").met);
}

TEST(BenchTargets, AMissOnAnIdleMachineDoesNotBlameTheMachine) {
  TargetFigures f;
  f.agent = DrainShare{40000, 0.5};
  const auto drain = verdict(judge_targets(f), "one agent drains ≥ 50,000");
  EXPECT_FALSE(drain.met);
  EXPECT_NE(drain.bound.find("does not show it"), std::string::npos) << drain.bound;
}

TEST(BenchTargets, AMissTheAgentWouldNotHaveDeletingRowsNamesWhatTheMarksCost) {
  TargetFigures f;
  f.agent = DrainShare{45000, 0.89, 9.0, 3.6, 2.1};
  f.agent_deleting = DrainShare{55000, 0.80, 7.4, 1.8, 0};
  f.poller = DrainShare{13000, 0.7};
  const auto all = judge_targets(f);
  const auto drain = verdict(all, "one agent drains ≥ 50,000");
  EXPECT_FALSE(drain.met);
  EXPECT_NE(drain.bound.find("of the 9.0 s all cores had in the agent's median round, PostgreSQL took 3.6 s, 2.1 s "
                             "of them for the marks"),
            std::string::npos)
      << drain.bound;
  EXPECT_NE(drain.bound.find("drained 55000 rows/s with PostgreSQL at 1.8 s"), std::string::npos) << drain.bound;
  EXPECT_EQ(verdict(all, "one agent drains ≥ 5×").bound, drain.bound);

  // Deleting was no faster: the marks are not what held the drain.
  f.agent_deleting->rate = 44000;
  const auto unexplained = verdict(judge_targets(f), "one agent drains ≥ 50,000");
  EXPECT_EQ(unexplained.bound.find("marks"), std::string::npos) << unexplained.bound;
  EXPECT_NE(unexplained.bound.find("does not show it"), std::string::npos) << unexplained.bound;
}

TEST(BenchTargets, TheServersCpuTargetComparesWithThePollerAndShowsTheBatchesPerRow) {
  TargetFigures f;
  f.agent_at_2000 = RateFigures{13.0, 3.1, 9.2, 310, 0.7};
  f.poller_at_2000 = RateFigures{988, 2.0, 2.7, 40, 0.5};
  const auto servers = verdict(judge_targets(f), "at 2,000 rows/s");
  EXPECT_FALSE(servers.met);
  EXPECT_EQ(servers.measured, "12.3 s against 4.7 s (2.6× of the poller's)");
  EXPECT_NE(servers.bound.find("310 record batches per 1,000 rows for the agent and 40 for the poller"),
            std::string::npos)
      << servers.bound;

  f.agent_at_2000->broker_cpu_s = 1.0;
  EXPECT_TRUE(verdict(judge_targets(f), "at 2,000 rows/s").met);
}

TEST(BenchTargets, LatencyTargetsHoldAtTheirOwnRates) {
  TargetFigures f;
  f.agent_at_2000 = RateFigures{19.9, 0, 0, -1, 0.4};
  f.agent_at_10000 = RateFigures{31.0, 0, 0, -1, 0.95};
  const auto all = judge_targets(f);
  EXPECT_TRUE(verdict(all, "p99 ≤ 20 ms").met);
  const auto at_10000 = verdict(all, "p99 ≤ 30 ms");
  EXPECT_FALSE(at_10000.met);
  EXPECT_NE(at_10000.bound.find("95 % busy"), std::string::npos) << at_10000.bound;
}

TEST(BenchTargets, ALatencyMissOnAMachineNotBusyOnAverageNamesTheWaitForACore) {
  TargetFigures f;
  f.agent_at_2000 = RateFigures{20.5, 3.7, 10.2, 686, 0.75, 0.42, 0.11};
  const auto at_2000 = verdict(judge_targets(f), "p99 ≤ 20 ms");
  EXPECT_FALSE(at_2000.met);
  EXPECT_NE(at_2000.bound.find("some task waited for a core during 42 % of the run"), std::string::npos)
      << at_2000.bound;
  EXPECT_NE(at_2000.bound.find("0.11 ms per row"), std::string::npos) << at_2000.bound;
  // Without pressure stall information the run cannot say.
  f.agent_at_2000->waiting_share = -1;
  EXPECT_NE(verdict(judge_targets(f), "p99 ≤ 20 ms").bound.find("this run does not show it"), std::string::npos);
}

TEST(BenchTargets, MemoryCountsEveryRunNotOnlyTheDrain) {
  TargetFigures f;
  f.agent_drain_rss_mib = 26;
  f.agent_latency_rss_mib = {{2000, 27}, {10000, 43}};
  const auto rss = verdict(judge_targets(f), "agent RSS");
  EXPECT_FALSE(rss.met);
  EXPECT_EQ(rss.measured, "26 MiB draining; 27 MiB at 2000 rows/s; 43 MiB at 10000 rows/s");
}

TEST(BenchTargets, WhatARunDidNotMeasureIsSaidSoNotCountedAsMet) {
  const auto all = judge_targets(TargetFigures{});
  for (const auto& v : all) {
    EXPECT_TRUE(v.measured.empty()) << v.target;
    EXPECT_FALSE(v.met) << v.target;
  }
  EXPECT_NE(render_targets(all).find("not measured"), std::string::npos);
}

}  // namespace
}  // namespace outflow::bench
