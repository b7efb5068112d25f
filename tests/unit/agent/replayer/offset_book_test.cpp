// The replayer's offsets across its partitions: what a commit carries, what
// the broker's answers change, and partitions that come and go.

#include "agent/replayer/offset_book.h"

#include <gtest/gtest.h>

using namespace outflow::agent::replayer;

namespace {

const TopicPartition kDlq0{"orders.dlq", 0};
const TopicPartition kDlq1{"orders.dlq", 1};
const TopicPartition kTier0{"orders.dlq.retry.1", 0};

// Consumes [from, to) of `tp` and finishes every one of them.
void consume_and_finish(OffsetBook& book, const TopicPartition& tp, std::int64_t from, std::int64_t to) {
  for (auto o = from; o < to; ++o) {
    ASSERT_TRUE(book.at(tp).consume(o));
    book.finish(tp, o);
  }
}

TEST(OffsetBook, ACommitCarriesEveryPartitionWithSomethingNewAndOnlyThose) {
  OffsetBook book;
  book.assign(kDlq0, 10);
  book.assign(kDlq1, 4);
  book.assign(kTier0, std::nullopt);
  consume_and_finish(book, kDlq0, 10, 13);
  ASSERT_TRUE(book.at(kTier0).consume(0));  // unfinished: it holds its commit at 0
  EXPECT_EQ(book.committable(), (std::vector<CommitPosition>{{kDlq0, 13}, {kTier0, 0}}))
      << "kDlq1 consumed nothing: nothing new to commit";
}

TEST(OffsetBook, ACommitForSomePartitionsLeavesTheOthersOut) {
  OffsetBook book;
  book.assign(kDlq0, 0);
  book.assign(kDlq1, 0);
  consume_and_finish(book, kDlq0, 0, 2);
  consume_and_finish(book, kDlq1, 0, 5);
  const std::set<TopicPartition> revoked{kDlq1};
  EXPECT_EQ(book.committable(&revoked), (std::vector<CommitPosition>{{kDlq1, 5}}));
}

TEST(OffsetBook, ASentCommitIsNotAskedForAgainAndAFailedOneIs) {
  OffsetBook book;
  book.assign(kDlq0, 0);
  consume_and_finish(book, kDlq0, 0, 3);
  const auto positions = book.committable();
  book.sent(positions, false);
  EXPECT_TRUE(book.committable().empty()) << "sent, answer pending";
  EXPECT_EQ(book.uncommitted(), 3) << "not confirmed: a crash now repeats all three";

  EXPECT_TRUE(book.answered({kDlq0, 3}, false)) << "a failure is to be asked again";
  EXPECT_EQ(book.committable(), positions);
}

TEST(OffsetBook, AConfirmedCommitBoundsWhatACrashRepeats) {
  OffsetBook book;
  book.assign(kDlq0, 0);
  consume_and_finish(book, kDlq0, 0, 3);
  book.sent(book.committable(), false);
  EXPECT_FALSE(book.answered({kDlq0, 3}, true));
  EXPECT_EQ(book.uncommitted(), 0);
  consume_and_finish(book, kDlq0, 3, 5);
  EXPECT_EQ(book.uncommitted(), 2);
}

TEST(OffsetBook, ASynchronousCommitIsConfirmedWhenSent) {
  OffsetBook book;
  book.assign(kDlq0, 0);
  consume_and_finish(book, kDlq0, 0, 4);
  book.sent(book.committable(), true);
  EXPECT_EQ(book.uncommitted(), 0);
  EXPECT_TRUE(book.committable().empty());
}

TEST(OffsetBook, AnswersAndFinishesForARevokedPartitionAreIgnored) {
  OffsetBook book;
  book.assign(kDlq0, 0);
  ASSERT_TRUE(book.at(kDlq0).consume(0));
  book.revoke(kDlq0);
  EXPECT_EQ(book.find(kDlq0), nullptr);
  EXPECT_FALSE(book.answered({kDlq0, 1}, false)) << "not ours: nothing to ask again";
  book.finish(kDlq0, 0);
  EXPECT_TRUE(book.empty());
  EXPECT_TRUE(book.committable().empty());
}

TEST(OffsetBook, APartitionAssignedAgainStartsAfreshFromTheCommittedOffset) {
  OffsetBook book;
  book.assign(kDlq0, 0);
  ASSERT_TRUE(book.at(kDlq0).consume(0));
  book.assign(kDlq0, 7);
  EXPECT_EQ(book.unfinished(), 0);
  EXPECT_FALSE(book.at(kDlq0).consume(6)) << "below the committed offset: already handled";
  EXPECT_TRUE(book.at(kDlq0).consume(7));
}

TEST(OffsetBook, SumsWhatIsUnfinishedAndUncommittedOverThePartitions) {
  OffsetBook book;
  book.assign(kDlq0, 0);
  book.assign(kDlq1, 0);
  for (std::int64_t o = 0; o < 3; ++o) ASSERT_TRUE(book.at(kDlq0).consume(o));
  consume_and_finish(book, kDlq1, 0, 2);
  EXPECT_EQ(book.unfinished(), 3);
  EXPECT_EQ(book.uncommitted(), 5);
  EXPECT_EQ(book.size(), 2u);
}

TEST(LookBackStart, StartsTheLookBackBeforeTheCommittedOffsetButNeverBelowZero) {
  EXPECT_EQ(look_back_start(20000, 15000), 5000);
  EXPECT_EQ(look_back_start(100, 15000), 0);
  EXPECT_EQ(look_back_start(0, 15000), 0);
}

}  // namespace
