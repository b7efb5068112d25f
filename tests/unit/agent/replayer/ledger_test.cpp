// One partition's bookkeeping: nothing is committed past an unfinished
// message, what a crash would repeat, and the held head.

#include "agent/replayer/ledger.h"

#include <gtest/gtest.h>

using namespace outflow::agent::replayer;

TEST(PartitionLedger, NothingToCommitBeforeAnythingIsConsumed) {
  PartitionLedger ledger;
  EXPECT_EQ(ledger.committable(), std::nullopt);
  EXPECT_EQ(ledger.uncommitted(), 0);
  EXPECT_EQ(ledger.next_offset(), std::nullopt);
}

TEST(PartitionLedger, CommitsUpToTheFirstUnfinishedOffset) {
  PartitionLedger ledger;
  for (std::int64_t o = 10; o < 15; ++o) ASSERT_TRUE(ledger.consume(o));
  EXPECT_EQ(ledger.committable(), 10) << "nothing finished: the first consumed offset";
  ledger.finish(10);
  ledger.finish(12);  // out of order: 11 still blocks
  EXPECT_EQ(ledger.committable(), 11);
  ledger.finish(11);
  EXPECT_EQ(ledger.committable(), 13);
  ledger.finish(13);
  ledger.finish(14);
  EXPECT_EQ(ledger.committable(), 15) << "all finished: one past the last consumed";
  EXPECT_EQ(ledger.unfinished(), 0);
}

TEST(PartitionLedger, ASentCommitIsNotAskedForAgainUntilThePositionMoves) {
  PartitionLedger ledger;
  ledger.consume(0);
  ledger.finish(0);
  ASSERT_EQ(ledger.committable(), 1);
  ledger.commit_sent(1);
  EXPECT_EQ(ledger.committable(), std::nullopt);
  ledger.consume(1);
  EXPECT_EQ(ledger.committable(), std::nullopt) << "1 is unfinished: the position is still 1";
  ledger.finish(1);
  EXPECT_EQ(ledger.committable(), 2);
}

TEST(PartitionLedger, AFailedCommitIsAskedForAgain) {
  PartitionLedger ledger;
  ledger.consume(0);
  ledger.finish(0);
  ledger.commit_sent(1);
  ledger.commit_failed();
  EXPECT_EQ(ledger.committable(), 1);
}

TEST(PartitionLedger, UncommittedCountsEverythingConsumedPastTheLastConfirmedCommit) {
  PartitionLedger ledger;
  for (std::int64_t o = 100; o < 110; ++o) ledger.consume(o);
  EXPECT_EQ(ledger.uncommitted(), 10) << "nothing confirmed: a crash repeats all of it";
  for (std::int64_t o = 100; o < 106; ++o) ledger.finish(o);
  ledger.commit_sent(106);
  EXPECT_EQ(ledger.uncommitted(), 10) << "sent is not confirmed";
  ledger.commit_confirmed(106);
  EXPECT_EQ(ledger.uncommitted(), 4);
  ledger.commit_confirmed(103);  // a late, older confirmation
  EXPECT_EQ(ledger.uncommitted(), 4);
}

TEST(PartitionLedger, StartsFromTheGroupsCommittedOffset) {
  PartitionLedger ledger(50);
  EXPECT_FALSE(ledger.consume(49)) << "below the committed offset";
  EXPECT_EQ(ledger.committable(), std::nullopt);
  EXPECT_TRUE(ledger.before_start(49)) << "read only to look back";
  EXPECT_FALSE(ledger.before_start(50));
  EXPECT_FALSE(PartitionLedger().before_start(0)) << "no committed offset: nothing to look back at";
  ASSERT_TRUE(ledger.consume(50));
  EXPECT_EQ(ledger.committable(), std::nullopt) << "50 is where the group already is";
  ledger.finish(50);
  EXPECT_EQ(ledger.committable(), 51);
  EXPECT_EQ(ledger.uncommitted(), 1);
}

TEST(PartitionLedger, ARefetchAfterASeekIsRecognised) {
  PartitionLedger ledger;
  ASSERT_TRUE(ledger.consume(5));
  ASSERT_TRUE(ledger.consume(6));
  EXPECT_FALSE(ledger.consume(6));
  EXPECT_FALSE(ledger.consume(3));
  EXPECT_EQ(ledger.unfinished(), 2);
  EXPECT_EQ(ledger.next_offset(), 7);
}

TEST(PartitionLedger, AHeldHeadIsReleasedOnce) {
  PartitionLedger ledger;
  ledger.consume(0);
  ledger.hold(1'000);
  EXPECT_TRUE(ledger.held());
  EXPECT_EQ(ledger.held_until(), 1'000);
  EXPECT_EQ(ledger.committable(), 0) << "a held head blocks the commit";
  ledger.release();
  EXPECT_FALSE(ledger.held());
  EXPECT_EQ(ledger.held_until(), std::nullopt);
}
