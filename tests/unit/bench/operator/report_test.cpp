#include "bench/operator/report.h"

#include <gtest/gtest.h>

namespace outflow::bench {
namespace {

TargetVerdict verdict(const OperatorRun& run, const std::string& starts_with) {
  for (const auto& v : judge_operator(run)) {
    if (v.target.rfind(starts_with, 0) == 0) return v;
  }
  throw std::invalid_argument("no target " + starts_with);
}

// A run like the ones measured here at 4,002 topics.
OperatorRun at_4002_topics() {
  OperatorRun run;
  run.pipelines = 1334;
  run.topics_per_pipeline = 3;
  run.before_pipelines = {27 * 1024, 12 * 1024, 15 * 1024, 61};
  run.steady = {60 * 1024, 44 * 1024, 16 * 1024, 61};
  run.peak_start_kib = 61 * 1024;
  run.peak_restart_kib = 50 * 1024;
  run.restart_admin_calls = {{"cluster_id", 1}, {"describe", 9}};
  return run;
}

TEST(OperatorQuotedMemory, ARunIsHeldToTheFigureAtTheMostTopicsNotAboveItsOwn) {
  EXPECT_FALSE(quoted_for(3000).has_value());
  EXPECT_EQ(quoted_for(4002)->mb, 195);
  EXPECT_EQ(quoted_for(5599)->mb, 195);
  EXPECT_EQ(quoted_for(5601)->mb, 314);
  EXPECT_NEAR(quoted_growth_kb_per_topic(), 74.4, 0.1);
}

TEST(OperatorTargets, MemoryAboveATenthIsAMissThatSaysWhatTheProcessIsMadeOf) {
  const auto v = verdict(at_4002_topics(), "peak RSS");
  EXPECT_FALSE(v.met);
  EXPECT_NE(v.measured.find("61.0 MiB"), std::string::npos) << v.measured;
  EXPECT_NE(v.measured.find("3.0× below the 195 MB quoted at 4000"), std::string::npos) << v.measured;
  EXPECT_NE(v.bound.find("16.0 MiB are mapped files"), std::string::npos) << v.bound;
  EXPECT_NE(v.bound.find("12.0 MiB its own memory before any pipeline (61 threads)"), std::string::npos) << v.bound;
  // (44 - 12) MiB over 4,002 topics.
  EXPECT_NE(v.bound.find("8.4 kB of its own memory per topic"), std::string::npos) << v.bound;
  EXPECT_NE(v.bound.find("less than the process holds with no pipeline at all (28.3 MB)"), std::string::npos)
      << v.bound;
}

TEST(OperatorTargets, MemoryWithinATenthIsMet) {
  auto run = at_4002_topics();
  run.peak_start_kib = run.peak_restart_kib = 18 * 1024;  // 18.9 MB, under 19.5
  EXPECT_TRUE(verdict(run, "peak RSS").met);
}

TEST(OperatorTargets, MemoryIsNotJudgedBelowTheQuotedSizes) {
  auto run = at_4002_topics();
  run.pipelines = 1000;
  EXPECT_TRUE(verdict(run, "peak RSS").measured.empty());
  EXPECT_NE(render_operator_results(run).find("not judged at 3000 topics: the quoted figures begin at 4000 "
                                              "(`--pipelines 1334`)"),
            std::string::npos);
}

TEST(OperatorTargets, AnyWriteWithNothingChangedIsAMiss) {
  auto run = at_4002_topics();
  EXPECT_TRUE(verdict(run, "a full resync").met);
  run.restart_writes = 2;
  EXPECT_FALSE(verdict(run, "a full resync").met);
  run.restart_writes = 0;
  run.steady_writes = 1;
  EXPECT_FALSE(verdict(run, "a full resync").met);
}

TEST(OperatorTargets, DescribingTopicsIsNoChangeButCreatingPartitionsIs) {
  auto run = at_4002_topics();
  EXPECT_TRUE(verdict(run, "... and changes nothing").met);
  EXPECT_NE(verdict(run, "... and changes nothing").measured.find("cluster_id 1, describe 9"), std::string::npos);
  run.restart_admin_calls["create_partitions"] = 1;
  EXPECT_FALSE(verdict(run, "... and changes nothing").met);
}

}  // namespace
}  // namespace outflow::bench
