// How replicas share the outbox's buckets.

#include "agent/publisher/buckets.h"

#include <gtest/gtest.h>

#include <numeric>

using namespace outflow::agent::publisher;

namespace {

std::set<int> range(int from, int to) {
  std::set<int> s;
  for (int i = from; i < to; ++i) s.insert(i);
  return s;
}

}  // namespace

TEST(Buckets, FairSharesTogetherCoverEveryBucket) {
  for (int members = 1; members <= 70; ++members) {
    EXPECT_GE(fair_share(kBucketCount, members) * members, kBucketCount) << members;
  }
  EXPECT_EQ(fair_share(64, 1), 64);
  EXPECT_EQ(fair_share(64, 3), 22);
  EXPECT_EQ(fair_share(64, 0), 64);  // before the first count, act alone
}

TEST(Buckets, ALoneReplicaTakesEveryFreeBucket) {
  const auto plan = rebalance(8, 1, {}, {}, 0);
  EXPECT_EQ(plan.acquire, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(plan.release.empty());
}

TEST(Buckets, AReplicaNeverTriesBucketsOthersHold) {
  const auto plan = rebalance(8, 2, {}, {0, 1, 2, 3, 4, 5}, 0);
  EXPECT_EQ(plan.acquire, (std::vector<int>{6, 7}));
}

TEST(Buckets, ScanningStartsAtTheReplicasOwnOffsetAndWraps) {
  const auto plan = rebalance(8, 2, {}, {}, 14);  // 14 % 8 = 6
  EXPECT_EQ(plan.acquire, (std::vector<int>{6, 7, 0, 1}));
}

TEST(Buckets, WhenAReplicaJoinsTheOthersReleaseTheirSurplusHighestFirst) {
  const auto plan = rebalance(64, 3, range(0, 32), range(32, 64), 0);
  EXPECT_EQ(plan.release, (std::vector<int>{31, 30, 29, 28, 27, 26, 25, 24, 23, 22}));
  EXPECT_TRUE(plan.acquire.empty());
}

TEST(Buckets, WhenAReplicaDiesTheSurvivorsPickUpItsBuckets) {
  // Three replicas had 22/22/20; one died, so two remain with a share of 32.
  const auto plan = rebalance(64, 2, range(0, 22), range(22, 44), 0);
  EXPECT_EQ(plan.acquire.size(), 10u);
  for (const int b : plan.acquire) EXPECT_GE(b, 44);
}

TEST(Buckets, AtItsShareAReplicaChangesNothing) {
  EXPECT_EQ(rebalance(64, 2, range(0, 32), range(32, 64), 5), Rebalance{});
}

TEST(Buckets, LockSpacesAreStablePositiveAndDistinctPerResolvedTable) {
  const auto a = lock_space("public", "outbox");
  EXPECT_EQ(a, lock_space("public", "outbox"));
  EXPECT_GT(a.members, 0);
  EXPECT_GT(a.buckets, 0);
  EXPECT_NE(a.members, a.buckets);
  // The same unqualified name in two schemas is two tables.
  EXPECT_NE(a, lock_space("billing", "outbox"));
  // Names with dots cannot be confused by where the dot sits.
  EXPECT_NE(lock_space("a.b", "c"), lock_space("a", "b.c"));
}

TEST(Buckets, OrdinaryNamesKeepTheLockSpaceOfEarlierVersions) {
  // Earlier agents hashed "public." + table; a rolling upgrade must not put
  // old and new replicas of one pipeline in different lock spaces.
  EXPECT_EQ(lock_space("public", "outbox"), (LockSpace{2051740800, 580366540}));
}
