#include "common/kube/workqueue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

using namespace outflow::kube;
using namespace std::chrono_literals;
using outflow::ManualClock;

namespace {

// Single-threaded tests use try_get() and a ManualClock: every step is
// deterministic, nothing sleeps.
class WorkQueueTest : public ::testing::Test {
 protected:
  std::optional<std::string> next() { return queue_.try_get(); }

  ManualClock clock_;
  WorkQueue queue_{clock_};
};

constexpr std::optional<std::string> kNothing = std::nullopt;

}  // namespace

// --- de-duplication and one worker per key ------------------------------------------

TEST_F(WorkQueueTest, HandsOutKeysInTheOrderTheyWereAdded) {
  queue_.add("ns/a");
  queue_.add("ns/b");
  queue_.add("ns/c");
  EXPECT_EQ(queue_.len(), 3u);
  EXPECT_EQ(next(), "ns/a");
  EXPECT_EQ(next(), "ns/b");
  EXPECT_EQ(next(), "ns/c");
  EXPECT_EQ(next(), kNothing);
}

TEST_F(WorkQueueTest, AKeyAlreadyQueuedIsNotQueuedAgain) {
  queue_.add("ns/a");
  queue_.add("ns/b");
  queue_.add("ns/a");
  queue_.add("ns/a");
  EXPECT_EQ(queue_.len(), 2u);
  EXPECT_EQ(next(), "ns/a");
  EXPECT_EQ(next(), "ns/b");
  EXPECT_EQ(next(), kNothing);
}

TEST_F(WorkQueueTest, AKeyAddedWhileProcessingWaitsForDoneThenComesBackOnce) {
  queue_.add("ns/a");
  ASSERT_EQ(next(), "ns/a");

  queue_.add("ns/a");  // the object changed while a worker reconciles it
  queue_.add("ns/a");
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(next(), kNothing) << "a second worker must not get a key that is processing";

  queue_.done("ns/a");
  EXPECT_EQ(queue_.len(), 1u) << "the change is not lost, and counted once";
  EXPECT_EQ(next(), "ns/a");
  queue_.done("ns/a");
  EXPECT_EQ(next(), kNothing);
}

TEST_F(WorkQueueTest, DoneWithoutAnotherAddLeavesTheKeyOut) {
  queue_.add("ns/a");
  ASSERT_EQ(next(), "ns/a");
  queue_.done("ns/a");
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(next(), kNothing);
  queue_.add("ns/a");
  EXPECT_EQ(next(), "ns/a") << "once done, the key is an ordinary new key";
}

TEST_F(WorkQueueTest, DoneForAKeyNotBeingProcessedChangesNothing) {
  queue_.add("ns/a");
  queue_.done("ns/a");  // misuse: never handed out
  queue_.done("ns/b");
  EXPECT_EQ(queue_.len(), 1u);
  EXPECT_EQ(next(), "ns/a");
  EXPECT_EQ(next(), kNothing);
}

TEST_F(WorkQueueTest, OtherKeysFlowWhileOneIsProcessing) {
  queue_.add("ns/a");
  ASSERT_EQ(next(), "ns/a");
  queue_.add("ns/a");
  queue_.add("ns/b");
  EXPECT_EQ(next(), "ns/b");
  EXPECT_EQ(next(), kNothing);
}

// --- delayed adds ----------------------------------------------------------------------

TEST_F(WorkQueueTest, AddAfterHandsTheKeyOutOnlyOnceTheDelayHasPassed) {
  const auto start = clock_.now();
  queue_.add_after("ns/a", 50ms);
  EXPECT_EQ(queue_.num_waiting(), 1u);
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(queue_.next_due(), start + 50ms);
  EXPECT_EQ(next(), kNothing);

  clock_.advance(49ms);
  EXPECT_EQ(next(), kNothing);
  clock_.advance(1ms);
  EXPECT_EQ(next(), "ns/a");
  EXPECT_EQ(queue_.num_waiting(), 0u);
  EXPECT_EQ(queue_.next_due(), std::nullopt);
}

TEST_F(WorkQueueTest, DelayedKeysComeDueInDueTimeOrderNotAddOrder) {
  queue_.add_after("ns/c", 30ms);
  queue_.add_after("ns/a", 10ms);
  queue_.add_after("ns/b", 20ms);
  queue_.add_after("ns/d", 20ms);  // same due time as b: added later, handed out later
  clock_.advance(30ms);
  EXPECT_EQ(next(), "ns/a");
  EXPECT_EQ(next(), "ns/b");
  EXPECT_EQ(next(), "ns/d");
  EXPECT_EQ(next(), "ns/c");
}

TEST_F(WorkQueueTest, AnEarlierDeadlineForAWaitingKeyReplacesTheLaterOne) {
  const auto start = clock_.now();
  queue_.add_after("ns/a", 10min);
  queue_.add_after("ns/a", 10ms);
  EXPECT_EQ(queue_.num_waiting(), 1u);
  EXPECT_EQ(queue_.next_due(), start + 10ms);
  clock_.advance(10ms);
  EXPECT_EQ(next(), "ns/a");
  queue_.done("ns/a");
  clock_.advance(10min);
  EXPECT_EQ(next(), kNothing) << "the later deadline is gone, not merely shadowed";
}

TEST_F(WorkQueueTest, ALaterDeadlineForAWaitingKeyIsIgnored) {
  const auto start = clock_.now();
  queue_.add_after("ns/a", 10ms);
  queue_.add_after("ns/a", 10min);
  EXPECT_EQ(queue_.num_waiting(), 1u);
  EXPECT_EQ(queue_.next_due(), start + 10ms);
}

TEST_F(WorkQueueTest, AddAfterWithNoDelayAddsAtOnce) {
  queue_.add_after("ns/a", 0ms);
  queue_.add_after("ns/b", -5ms);
  EXPECT_EQ(queue_.num_waiting(), 0u);
  EXPECT_EQ(next(), "ns/a");
  EXPECT_EQ(next(), "ns/b");
}

TEST_F(WorkQueueTest, ADelayedKeyAlreadyQueuedWhenDueIsNotDuplicated) {
  queue_.add("ns/a");
  queue_.add_after("ns/a", 10ms);
  clock_.advance(10ms);
  EXPECT_EQ(queue_.len(), 1u);
  EXPECT_EQ(next(), "ns/a");
  EXPECT_EQ(next(), kNothing);
}

TEST_F(WorkQueueTest, ADelayedKeyThatComesDueWhileProcessingWaitsForDone) {
  queue_.add_after("ns/a", 10ms);
  queue_.add("ns/a");  // an event arrives before the periodic requeue is due
  ASSERT_EQ(next(), "ns/a");
  clock_.advance(10ms);
  EXPECT_EQ(next(), kNothing) << "never handed to a second worker";
  queue_.done("ns/a");
  EXPECT_EQ(next(), "ns/a") << "the periodic requeue survives the event-driven reconcile";
}

TEST_F(WorkQueueTest, ProcessDueMovesDueKeysToTheReadyQueue) {
  const auto start = clock_.now();
  queue_.add_after("ns/a", 1s);
  queue_.add_after("ns/b", 2s);
  queue_.add_after("ns/c", 3s);
  EXPECT_EQ(queue_.process_due(), 0u);
  clock_.advance(2s);
  EXPECT_EQ(queue_.process_due(), 2u);
  EXPECT_EQ(queue_.num_waiting(), 1u);
  EXPECT_EQ(queue_.next_due(), start + 3s);
  EXPECT_EQ(queue_.len(), 2u);
}

TEST_F(WorkQueueTest, LenCountsKeysThatHaveComeDue) {
  queue_.add_after("ns/a", 1s);
  EXPECT_EQ(queue_.len(), 0u);
  clock_.advance(1s);
  EXPECT_EQ(queue_.len(), 1u) << "the depth metric must not miss keys no worker has looked at yet";
}

// --- rate-limited retries ---------------------------------------------------------------

TEST_F(WorkQueueTest, AddRateLimitedBacksOffPerKeyAndForgetResets) {
  const auto start = clock_.now();
  queue_.add_rate_limited("ns/a");
  EXPECT_EQ(queue_.num_requeues("ns/a"), 1);
  EXPECT_EQ(queue_.next_due(), start + 5ms);
  EXPECT_EQ(next(), kNothing);
  clock_.advance(5ms);
  ASSERT_EQ(next(), "ns/a");

  queue_.add_rate_limited("ns/a");  // failed again
  queue_.done("ns/a");
  EXPECT_EQ(queue_.num_requeues("ns/a"), 2);
  EXPECT_EQ(queue_.next_due(), clock_.now() + 10ms);
  clock_.advance(10ms);
  ASSERT_EQ(next(), "ns/a");

  queue_.forget("ns/a");  // succeeded
  queue_.done("ns/a");
  EXPECT_EQ(queue_.num_requeues("ns/a"), 0);
  queue_.add_rate_limited("ns/a");
  EXPECT_EQ(queue_.next_due(), clock_.now() + 5ms) << "back-off starts over after forget";
}

TEST_F(WorkQueueTest, UsesTheRateLimiterItIsGiven) {
  ManualClock clock;
  auto backoff =
      std::make_unique<ItemExponentialBackoff>(ItemBackoffOptions{.base = 1s, .max = 2s});
  WorkQueue queue(clock, std::move(backoff));
  queue.add_rate_limited("ns/a");
  EXPECT_EQ(queue.next_due(), clock.now() + 1s);
  EXPECT_THROW(WorkQueue(clock, nullptr), std::invalid_argument);
}

// --- shutdown --------------------------------------------------------------------------------

TEST_F(WorkQueueTest, ShutdownStopsHandingOutKeysAndIgnoresNewOnes) {
  queue_.add("ns/a");
  queue_.add_after("ns/b", 1s);
  queue_.shutdown();
  EXPECT_TRUE(queue_.shutting_down());
  EXPECT_EQ(next(), kNothing);
  EXPECT_EQ(queue_.get(), kNothing) << "get() does not block once shut down";
  queue_.add("ns/c");
  queue_.add_after("ns/d", 1ms);
  clock_.advance(1s);
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(queue_.num_waiting(), 0u);
}

TEST_F(WorkQueueTest, DoneAfterShutdownDoesNotRequeue) {
  queue_.add("ns/a");
  ASSERT_EQ(next(), "ns/a");
  queue_.add("ns/a");
  queue_.shutdown();
  queue_.done("ns/a");
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(next(), kNothing);
}

TEST_F(WorkQueueTest, ShutdownWithDrainReturnsAtOnceWhenNothingIsProcessing) {
  queue_.add("ns/a");
  queue_.shutdown_with_drain();
  EXPECT_TRUE(queue_.shutting_down());
}

// --- with real threads: bounded, no timing assertions ----------------------------------

namespace {

// Every thread a test starts is joined before the test returns, even when an
// assertion fails half-way.
class Threads {
 public:
  ~Threads() { join(); }
  template <typename F>
  void spawn(F&& body) {
    threads_.emplace_back(std::forward<F>(body));
  }
  void join() {
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  std::vector<std::thread> threads_;
};

}  // namespace

TEST(WorkQueueThreads, BlockedGettersWakeWithNothingOnShutdown) {
  ManualClock clock;
  WorkQueue queue(clock);
  queue.add_after("ns/later", 1h);  // something waiting, nothing ready
  constexpr int kGetters = 4;
  std::atomic<int> got_nothing{0};
  {
    Threads getters;
    for (int i = 0; i < kGetters; ++i) {
      getters.spawn([&] {
        if (!queue.get()) ++got_nothing;
      });
    }
    queue.shutdown();
  }  // joined: a getter left blocked would hang here
  EXPECT_EQ(got_nothing.load(), kGetters);
}

TEST(WorkQueueThreads, ProcessDueWakesAGetterBlockedOnADelayedKey) {
  ManualClock clock;
  WorkQueue queue(clock);
  queue.add_after("ns/a", 1h);
  std::optional<std::string> got;
  {
    Threads getter;
    getter.spawn([&] { got = queue.get(); });
    clock.advance(1h);  // the getter's condition variable cannot see this ...
    queue.process_due();  // ... so the test says so
  }
  EXPECT_EQ(got, "ns/a");
}

TEST(WorkQueueThreads, ShutdownWithDrainWaitsForKeysBeingProcessed) {
  ManualClock clock;
  WorkQueue queue(clock);
  queue.add("ns/a");
  ASSERT_EQ(queue.try_get(), "ns/a");

  std::atomic<bool> done_called{false};
  std::atomic<bool> drain_saw_done{false};
  Threads drainer;
  drainer.spawn([&] {
    queue.shutdown_with_drain();
    drain_saw_done = done_called.load();
  });
  // Whether or not the drainer is already blocked, it may return only after this.
  done_called = true;
  queue.done("ns/a");
  drainer.join();
  EXPECT_TRUE(drain_saw_done.load());
}

TEST(WorkQueueThreads, NoKeyIsEverProcessedByTwoWorkersAndNoUpdateIsLost) {
  ManualClock clock;
  WorkQueue queue(clock);
  constexpr int kWorkers = 8;
  constexpr int kKeys = 10;
  constexpr int kUpdatesPerKey = 500;

  std::mutex mu;
  std::condition_variable all_seen;
  std::map<std::string, int> version;   // bumped by the producer before each add
  std::map<std::string, int> seen;      // the highest version a worker reconciled
  std::map<std::string, int> in_flight; // workers inside "reconcile" per key
  int overlaps = 0;
  int caught_up = 0;  // keys whose latest version has been reconciled

  Threads workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.spawn([&] {
      while (auto key = queue.get()) {
        {
          std::lock_guard lock(mu);
          if (in_flight[*key]++ != 0) ++overlaps;
          // Like a reconcile reading the informer cache: the state as of now.
          const int v = version[*key];
          if (v > seen[*key]) {
            seen[*key] = v;
            if (v == kUpdatesPerKey) {
              ++caught_up;
              all_seen.notify_all();
            }
          }
        }
        std::this_thread::yield();  // widen the window in which a second worker could slip in
        {
          std::lock_guard lock(mu);
          --in_flight[*key];
        }
        queue.done(*key);
      }
    });
  }

  for (int round = 1; round <= kUpdatesPerKey; ++round) {
    for (int k = 0; k < kKeys; ++k) {
      const std::string key = "ns/p" + std::to_string(k);
      {
        std::lock_guard lock(mu);
        version[key] = round;
      }
      queue.add(key);
    }
  }

  {
    std::unique_lock lock(mu);
    // Only a guard against hanging the suite if an update were lost; the run
    // itself takes milliseconds.
    const bool finished = all_seen.wait_for(lock, 30s, [&] { return caught_up == kKeys; });
    EXPECT_TRUE(finished) << "an update was lost: " << caught_up << "/" << kKeys
                          << " keys caught up";
  }
  queue.shutdown();
  workers.join();

  EXPECT_EQ(overlaps, 0);
  for (int k = 0; k < kKeys; ++k) {
    EXPECT_EQ(seen["ns/p" + std::to_string(k)], kUpdatesPerKey);
  }
}

// --- priorities -----------------------------------------------------------------------
// Changes made by people (Normal) are handed out before the initial list and
// periodic resyncs (Low), so one spec change does not wait behind a thousand
// resync keys.

TEST_F(WorkQueueTest, AChangeGoesBeforeResyncKeysQueuedEarlier) {
  queue_.add("ns/resync-1", Priority::Low);
  queue_.add("ns/resync-2", Priority::Low);
  queue_.add("ns/changed");
  EXPECT_EQ(queue_.len(), 3u);
  EXPECT_EQ(next(), "ns/changed");
  EXPECT_EQ(next(), "ns/resync-1");
  EXPECT_EQ(next(), "ns/resync-2");
  EXPECT_EQ(next(), kNothing);
}

TEST_F(WorkQueueTest, ChangesKeepTheirOrderAmongThemselves) {
  queue_.add("ns/resync", Priority::Low);
  queue_.add("ns/first");
  queue_.add("ns/second");
  EXPECT_EQ(next(), "ns/first");
  EXPECT_EQ(next(), "ns/second");
  EXPECT_EQ(next(), "ns/resync");
}

TEST_F(WorkQueueTest, AKeyWaitingForItsResyncMovesUpWhenItChanges) {
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

TEST_F(WorkQueueTest, AResyncOfAQueuedChangeDoesNotLowerIt) {
  queue_.add("ns/resync", Priority::Low);
  queue_.add("ns/changed");
  queue_.add("ns/changed", Priority::Low);
  EXPECT_EQ(queue_.len(), 2u);
  EXPECT_EQ(next(), "ns/changed");
  EXPECT_EQ(next(), "ns/resync");
}

TEST_F(WorkQueueTest, AChangeDuringProcessingIsRequeuedAtItsPriority) {
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

TEST_F(WorkQueueTest, ADelayedKeyComesDueAtThePriorityItWasAddedWith) {
  queue_.add_after("ns/periodic", 1s, Priority::Low);
  queue_.add_after("ns/retry", 1s);
  queue_.add("ns/resync", Priority::Low);
  clock_.advance(1s);
  EXPECT_EQ(queue_.process_due(), 2u);
  EXPECT_EQ(next(), "ns/retry");
  EXPECT_EQ(next(), "ns/resync");
  EXPECT_EQ(next(), "ns/periodic");
}

TEST_F(WorkQueueTest, AWaitingKeyAddedAgainKeepsTheEarlierTimeAndTheHigherPriority) {
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

TEST_F(WorkQueueTest, ARateLimitedRetryKeepsThePriorityItIsGiven) {
  queue_.add("ns/resync", Priority::Low);
  queue_.add_rate_limited("ns/failed-change", Priority::Normal);
  queue_.add_rate_limited("ns/failed-resync", Priority::Low);
  clock_.advance(1s);
  queue_.process_due();
  EXPECT_EQ(next(), "ns/failed-change");
  EXPECT_EQ(next(), "ns/resync");
  EXPECT_EQ(next(), "ns/failed-resync");
}

TEST_F(WorkQueueTest, ShutdownDropsKeysOfEveryPriority) {
  queue_.add("ns/a", Priority::Low);
  queue_.add("ns/b");
  queue_.shutdown();
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(next(), kNothing);
}

// The queue-depth metric by priority: a resync burst and a backlog of changes
// are different problems, and one number cannot tell them apart.
TEST_F(WorkQueueTest, DepthIsCountedPerPriorityIncludingDueKeysAndMovesWithAPromotion) {
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
