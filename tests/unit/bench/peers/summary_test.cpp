#include "bench/peers/summary.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace outflow::bench {
namespace {

TEST(BenchSummary, PercentilesAreNearestRank) {
  std::vector<double> values;
  for (int i = 100; i >= 1; --i) values.push_back(i);  // unsorted on purpose
  EXPECT_EQ(percentile(values, 50), 50);
  EXPECT_EQ(percentile(values, 99), 99);
  EXPECT_EQ(percentile(values, 100), 100);
  EXPECT_EQ(percentile({7, 1, 4}, 50), 4);
  EXPECT_EQ(median({3, 1, 2, 10}), 2);
  EXPECT_EQ(percentile({}, 99), 0);
}

TEST(BenchSummary, RatiosSayHowManyTimesAndNothingForMissingFigures) {
  EXPECT_EQ(times(22000, 7700), "2.9×");
  EXPECT_EQ(times(1200, 26), "46×");
  EXPECT_EQ(times(5, 0), "-");
  EXPECT_EQ(times(0, 5), "-");
}

TEST(BenchSummary, MarkdownTablesHaveAHeaderRuleAndRowsOfTheSameWidth) {
  MarkdownTable table({"relay", "ev/s"});
  table.add({"outflow-agent", "22000"});
  EXPECT_EQ(table.render(), "| relay | ev/s |\n| --- | --- |\n| outflow-agent | 22000 |\n");
  EXPECT_THROW(table.add({"too", "many", "cells"}), std::invalid_argument);
}

}  // namespace
}  // namespace outflow::bench
