// A second tier copy of one dead letter (moved again after a crash) is
// recognised; reading the same copy again is not a repeat.

#include "agent/replayer/move_dedup.h"

#include <gtest/gtest.h>

using namespace outflow::agent::replayer;

TEST(MoveDedup, ASecondCopyAfterTheFirstIsARepeat) {
  MoveDedup dedup(100);
  EXPECT_FALSE(dedup.repeat("dlq/0/7", 10));
  EXPECT_FALSE(dedup.repeat("dlq/0/8", 11));
  EXPECT_TRUE(dedup.repeat("dlq/0/7", 40));
  EXPECT_FALSE(dedup.repeat("dlq/1/7", 41)) << "another dead-letter partition, another message";
}

TEST(MoveDedup, ReadingTheSameOffsetAgainIsNotARepeat) {
  MoveDedup dedup(100);
  EXPECT_FALSE(dedup.repeat("dlq/0/7", 10));
  EXPECT_FALSE(dedup.repeat("dlq/0/7", 10)) << "a re-fetch after a seek or a rebalance";
}

TEST(MoveDedup, AnEarlierOffsetReadLaterBecomesTheFirstCopy) {
  MoveDedup dedup(100);
  EXPECT_FALSE(dedup.repeat("dlq/0/7", 30));
  EXPECT_FALSE(dedup.repeat("dlq/0/7", 10)) << "read back: the earlier one is the first";
  EXPECT_TRUE(dedup.repeat("dlq/0/7", 30)) << "and the later one now its repeat";
}

TEST(MoveDedup, FirstCopiesOutsideTheWindowAreForgotten) {
  MoveDedup dedup(50);
  EXPECT_FALSE(dedup.repeat("dlq/0/1", 0));
  for (int i = 1; i <= 60; ++i) dedup.repeat("dlq/0/" + std::to_string(100 + i), i);
  EXPECT_LE(dedup.remembered(), 51u) << "memory stays within the window";
  EXPECT_FALSE(dedup.repeat("dlq/0/1", 61)) << "too far back to be a repeat of a crash";
}
