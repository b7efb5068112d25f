// When the replayer stops reading (the in-flight window) and when it commits.

#include "agent/replayer/flow.h"

#include <gtest/gtest.h>

using namespace outflow::agent::replayer;

TEST(FlowGate, PausesAtTheWindowAndResumesAtHalf) {
  FlowGate gate(100);
  EXPECT_EQ(gate.update(99), FlowGate::Change::None);
  EXPECT_EQ(gate.update(100), FlowGate::Change::Pause);
  EXPECT_TRUE(gate.paused());
  EXPECT_EQ(gate.update(120), FlowGate::Change::None);
  EXPECT_EQ(gate.update(51), FlowGate::Change::None) << "no flapping just below the window";
  EXPECT_EQ(gate.update(50), FlowGate::Change::Resume);
  EXPECT_FALSE(gate.paused());
}

TEST(FlowGate, ResetAfterARebalanceStartsUnpaused) {
  FlowGate gate(10);
  gate.update(10);
  gate.reset();
  EXPECT_FALSE(gate.paused());
  EXPECT_EQ(gate.update(10), FlowGate::Change::Pause);
}

TEST(CommitPacer, NothingFinishedNothingDue) {
  CommitPacer pacer(100, 500);
  EXPECT_FALSE(pacer.due(1'000'000));
  EXPECT_EQ(pacer.deadline(), std::nullopt);
}

TEST(CommitPacer, ATrickleIsCommittedWithinTheInterval) {
  CommitPacer pacer(100, 500);
  pacer.finished(1, 1'000);
  EXPECT_EQ(pacer.deadline(), 1'500);
  EXPECT_FALSE(pacer.due(1'499));
  EXPECT_TRUE(pacer.due(1'500));
  pacer.committed();
  EXPECT_FALSE(pacer.due(5'000));
}

TEST(CommitPacer, ABurstIsCommittedEveryBatchNotEveryInterval) {
  CommitPacer pacer(100, 500);
  pacer.finished(60, 1'000);
  EXPECT_FALSE(pacer.due(1'001));
  pacer.finished(40, 1'002);
  EXPECT_TRUE(pacer.due(1'002)) << "100 finished 2 ms after the first: commit now";
  pacer.committed();
  pacer.finished(1, 1'003);
  EXPECT_EQ(pacer.deadline(), 1'503) << "the interval counts from the first message after the commit";
}
