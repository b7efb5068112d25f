// The replayer's figures: counters and partitions summed, paused partitions
// counted, and the last error shown from the next publish.

#include "agent/replayer/replayer_stats.h"

#include <gtest/gtest.h>

using namespace outflow::agent::replayer;

namespace {

TEST(ReplayerStatsOf, CarriesTheCountersAndSumsWhatThePartitionsHold) {
  ReplayerCounters counters{.received = 9, .moved = 4, .republished = 3, .parked = 2, .repeats_dropped = 1,
                            .given_up = 5, .consumer_failures = 6};
  OffsetBook offsets;
  offsets.assign({"dlq", 0}, 0);
  offsets.assign({"dlq", 1}, 0);
  for (std::int64_t o = 0; o < 3; ++o) ASSERT_TRUE(offsets.at({"dlq", 0}).consume(o));
  offsets.finish({"dlq", 0}, 1);
  ASSERT_TRUE(offsets.at({"dlq", 1}).consume(0));

  const auto stats = stats_of(counters, offsets, false);
  EXPECT_EQ(stats.received_total, 9);
  EXPECT_EQ(stats.moved_total, 4);
  EXPECT_EQ(stats.republished_total, 3);
  EXPECT_EQ(stats.parked_total, 2);
  EXPECT_EQ(stats.repeats_dropped, 1);
  EXPECT_EQ(stats.given_up_total, 5);
  EXPECT_EQ(stats.consumer_failures_total, 6);
  EXPECT_EQ(stats.pending, 3) << "consumed and not yet acknowledged where they went";
  EXPECT_EQ(stats.assigned_partitions, 2u);
  EXPECT_EQ(stats.paused_partitions, 0u);
}

TEST(ReplayerStatsOf, AHeldPartitionIsPausedAndEveryPartitionWhileTheGateIsClosed) {
  OffsetBook offsets;
  offsets.assign({"dlq.retry.1", 0}, 0);
  offsets.assign({"dlq.retry.1", 1}, 0);
  offsets.assign({"dlq", 0}, 0);
  offsets.at({"dlq.retry.1", 0}).hold(60000);
  EXPECT_EQ(stats_of({}, offsets, false).paused_partitions, 1u);
  EXPECT_EQ(stats_of({}, offsets, true).paused_partitions, 3u);
}

TEST(StatsBoard, ShowsTheLastErrorFromTheNextPublishOn) {
  StatsBoard board;
  ReplayerStats stats;
  stats.received_total = 1;
  board.publish(stats);
  board.note_error("commit failed: Broker: Not coordinator");
  EXPECT_EQ(board.snapshot().last_error, "");
  EXPECT_EQ(board.snapshot().received_total, 1);
  stats.received_total = 2;
  board.publish(stats);
  EXPECT_EQ(board.snapshot().last_error, "commit failed: Broker: Not coordinator");
  EXPECT_EQ(board.snapshot().received_total, 2);
  board.note_error("a newer problem");
  board.publish(stats);
  EXPECT_EQ(board.snapshot().last_error, "a newer problem");
}

}  // namespace
