#include "bench/peers/busy_window.h"

#include <gtest/gtest.h>

namespace outflow::bench {
namespace {

// Two cores: 200 ticks a second of wall clock, readings every 100 ms.
std::vector<CpuReading> readings_busy(const std::vector<unsigned long long>& busy_ticks_per_100ms) {
  std::vector<CpuReading> out{{1000, 0, 0}};
  for (const auto busy : busy_ticks_per_100ms) {
    const auto& prev = out.back();
    out.push_back({prev.at_ms + 100, prev.busy + busy, prev.total + 20});
  }
  return out;
}

TEST(BusyWindow, OnlyTheStretchBetweenTheReadingsAroundTheWindowCounts) {
  // Idle start-up, a busy stretch, an idle end.
  const auto readings = readings_busy({2, 2, 19, 19, 19, 19, 2, 2});
  EXPECT_DOUBLE_EQ(busy_share_within(readings, 1200, 1600), 76.0 / 80.0);
  EXPECT_DOUBLE_EQ(busy_share_within(readings, 1000, 1800), 84.0 / 160.0);
  // A window inside one interval takes the whole interval.
  EXPECT_DOUBLE_EQ(busy_share_within(readings, 1250, 1270), 19.0 / 20.0);
}

TEST(BusyWindow, AWindowTheReadingsDoNotCoverIsUnknown) {
  const auto readings = readings_busy({5, 5});
  EXPECT_EQ(busy_share_within(readings, 900, 1100), -1);
  EXPECT_EQ(busy_share_within(readings, 1100, 1300), -1);
  EXPECT_EQ(busy_share_within({}, 0, 1), -1);
}

}  // namespace
}  // namespace outflow::bench
