#include "bench/peers/session_cpu.h"

#include <gtest/gtest.h>

namespace outflow::bench {
namespace {

TEST(SessionCpu, ASessionCostsWhatItSpentBetweenTheReadings) {
  const auto spent = session_cpu({{101, 1.5}}, {{101, "outflow-agent-marks", 3.5}});
  ASSERT_EQ(spent.size(), 1u);
  EXPECT_DOUBLE_EQ(spent.at("outflow-agent-marks"), 2.0);
}

TEST(SessionCpu, ASessionThatStartedInBetweenCountsFromZero) {
  const auto spent = session_cpu({}, {{202, "outflow-agent", 1.25}});
  EXPECT_DOUBLE_EQ(spent.at("outflow-agent"), 1.25);
}

TEST(SessionCpu, SessionsOfOneNameAddUp) {
  // Three agent replicas each hold a marks session.
  const auto spent = session_cpu({{1, 0.5}}, {{1, "outflow-agent-marks", 1.0},
                                              {2, "outflow-agent-marks", 0.75},
                                              {3, "outflow-agent-marks", 0.25}});
  EXPECT_DOUBLE_EQ(spent.at("outflow-agent-marks"), 1.5);
}

TEST(SessionCpu, IdleSessionsAreLeftOutAndUnnamedOnesAreCalledSo) {
  const auto spent = session_cpu({{1, 2.0}, {2, 0.0}}, {{1, "walwriter", 2.0}, {2, "", 0.5}});
  ASSERT_EQ(spent.size(), 1u);
  EXPECT_DOUBLE_EQ(spent.at("unnamed"), 0.5);
}

}  // namespace
}  // namespace outflow::bench
