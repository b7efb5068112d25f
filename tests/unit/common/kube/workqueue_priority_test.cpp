// The work queue's two priorities: changes made by people (Normal) are handed
// out before the initial list and periodic resyncs (Low), so one spec change
// does not wait behind a thousand resync keys. Single-threaded, ManualClock,
// try_get(): deterministic, nothing sleeps.

#include "common/kube/workqueue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

using namespace outflow::kube;
using namespace std::chrono_literals;
using outflow::ManualClock;

namespace {

class WorkQueuePriorityTest : public ::testing::Test {
 protected:
  std::optional<std::string> next() { return queue_.try_get(); }

  ManualClock clock_;
  WorkQueue queue_{clock_};
};

constexpr std::optional<std::string> kNothing = std::nullopt;

}  // namespace

TEST_F(WorkQueuePriorityTest, AChangeGoesBeforeResyncKeysQueuedEarlier) {
  queue_.add("ns/resync-1", Priority::Low);
  queue_.add("ns/resync-2", Priority::Low);
  queue_.add("ns/changed");
  EXPECT_EQ(queue_.len(), 3u);
  EXPECT_EQ(next(), "ns/changed");
  EXPECT_EQ(next(), "ns/resync-1");
  EXPECT_EQ(next(), "ns/resync-2");
  EXPECT_EQ(next(), kNothing);
}

TEST_F(WorkQueuePriorityTest, ChangesKeepTheirOrderAmongThemselves) {
  queue_.add("ns/resync", Priority::Low);
  queue_.add("ns/first");
  queue_.add("ns/second");
  EXPECT_EQ(next(), "ns/first");
  EXPECT_EQ(next(), "ns/second");
  EXPECT_EQ(next(), "ns/resync");
}

TEST_F(WorkQueuePriorityTest, AKeyWaitingForItsResyncMovesUpWhenItChanges) {
  queue_.add("ns/a", Priority::Low);
  queue_.add("ns/b", Priority::Low);
  queue_.add("ns/c", Priority::Low);
  queue_.add("ns/c");  // a person edited c while the resync was queued
  EXPECT_EQ(queue_.len(), 3u) << "raised, not queued twice";
  EXPECT_EQ(next(), "ns/c");
  EXPECT_EQ(next(), "ns/a");
  EXPECT_EQ(next(), "ns/b");
  EXPECT_EQ(next(), kNothing);
}

TEST_F(WorkQueuePriorityTest, AResyncOfAQueuedChangeDoesNotLowerIt) {
  queue_.add("ns/resync", Priority::Low);
  queue_.add("ns/changed");
  queue_.add("ns/changed", Priority::Low);
  EXPECT_EQ(queue_.len(), 2u);
  EXPECT_EQ(next(), "ns/changed");
  EXPECT_EQ(next(), "ns/resync");
}

TEST_F(WorkQueuePriorityTest, AChangeDuringProcessingIsRequeuedAtItsPriority) {
  queue_.add("ns/a", Priority::Low);
  queue_.add("ns/b", Priority::Low);
  const auto item = queue_.try_get_item();
  ASSERT_TRUE(item);
  EXPECT_EQ(item->key, "ns/a");
  EXPECT_EQ(item->priority, Priority::Low);
  queue_.add("ns/a");  // changed while its resync runs
  queue_.done("ns/a");
  const auto again = queue_.try_get_item();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->key, "ns/a");
  EXPECT_EQ(again->priority, Priority::Normal);
  EXPECT_EQ(next(), "ns/b");
}

TEST_F(WorkQueuePriorityTest, ADelayedKeyComesDueAtThePriorityItWasAddedWith) {
  queue_.add_after("ns/periodic", 1s, Priority::Low);
  queue_.add_after("ns/retry", 1s);
  queue_.add("ns/resync", Priority::Low);
  clock_.advance(1s);
  EXPECT_EQ(queue_.process_due(), 2u);
  EXPECT_EQ(next(), "ns/retry");
  EXPECT_EQ(next(), "ns/resync");
  EXPECT_EQ(next(), "ns/periodic");
}

TEST_F(WorkQueuePriorityTest, AWaitingKeyAddedAgainKeepsTheEarlierTimeAndTheHigherPriority) {
  queue_.add("ns/resync", Priority::Low);
  queue_.add_after("ns/a", 1s, Priority::Low);
  queue_.add_after("ns/a", 5s);
  clock_.advance(1s);
  queue_.process_due();
  EXPECT_EQ(next(), "ns/a");
  EXPECT_EQ(next(), "ns/resync");
  clock_.advance(10s);
  EXPECT_EQ(queue_.process_due(), 0u) << "one waiting entry per key";
}

TEST_F(WorkQueuePriorityTest, ARateLimitedRetryKeepsThePriorityItIsGiven) {
  queue_.add("ns/resync", Priority::Low);
  queue_.add_rate_limited("ns/failed-change", Priority::Normal);
  queue_.add_rate_limited("ns/failed-resync", Priority::Low);
  clock_.advance(1s);
  queue_.process_due();
  EXPECT_EQ(next(), "ns/failed-change");
  EXPECT_EQ(next(), "ns/resync");
  EXPECT_EQ(next(), "ns/failed-resync");
}

TEST_F(WorkQueuePriorityTest, ShutdownDropsKeysOfEveryPriority) {
  queue_.add("ns/a", Priority::Low);
  queue_.add("ns/b");
  queue_.shutdown();
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(next(), kNothing);
}

// The queue-depth metric by priority: a resync burst and a backlog of changes
// are different problems, and one number cannot tell them apart.
TEST_F(WorkQueuePriorityTest, DepthIsCountedPerPriorityIncludingDueKeysAndMovesWithAPromotion) {
  queue_.add("ns/resync-1", Priority::Low);
  queue_.add("ns/resync-2", Priority::Low);
  queue_.add("ns/changed");
  queue_.add_after("ns/later", 5s, Priority::Low);
  EXPECT_EQ(queue_.len(Priority::Normal), 1u);
  EXPECT_EQ(queue_.len(Priority::Low), 2u);
  clock_.advance(5s);
  EXPECT_EQ(queue_.len(Priority::Low), 3u);
  queue_.add("ns/resync-1");  // a change to a key queued for a resync moves it up
  EXPECT_EQ(queue_.len(Priority::Normal), 2u);
  EXPECT_EQ(queue_.len(Priority::Low), 2u);
  EXPECT_EQ(queue_.len(), 4u);
  EXPECT_EQ(next(), "ns/changed");
  EXPECT_EQ(queue_.len(Priority::Normal), 1u);
}
