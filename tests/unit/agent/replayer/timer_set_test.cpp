// Due times by key: one per key, earliest first.

#include "agent/replayer/timer_set.h"

#include <gtest/gtest.h>

#include <string>

using namespace outflow::agent::replayer;

TEST(TimerSet, TellsTheEarliestTimeAndHandsOutWhatIsDue) {
  TimerSet<std::string> timers;
  EXPECT_EQ(timers.next(), std::nullopt);
  timers.schedule("b", 200);
  timers.schedule("a", 100);
  timers.schedule("c", 300);
  EXPECT_EQ(timers.next(), 100);
  EXPECT_TRUE(timers.take_due(99).empty());
  EXPECT_EQ(timers.take_due(200), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(timers.next(), 300);
  EXPECT_EQ(timers.size(), 1u);
}

TEST(TimerSet, RescheduleMovesAKeyInsteadOfAddingIt) {
  TimerSet<int> timers;
  timers.schedule(1, 100);
  timers.schedule(1, 500);
  EXPECT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers.at(1), 500);
  EXPECT_TRUE(timers.take_due(400).empty());
  EXPECT_EQ(timers.take_due(500), std::vector<int>{1});
  EXPECT_TRUE(timers.empty());
}

TEST(TimerSet, CancelAndEraseIfRemoveKeys) {
  TimerSet<int> timers;
  for (int k = 0; k < 6; ++k) timers.schedule(k, 10 * k);
  timers.cancel(0);
  timers.cancel(42);  // unknown: nothing happens
  timers.erase_if([](int k) { return k % 2 == 1; });
  EXPECT_FALSE(timers.contains(0));
  EXPECT_TRUE(timers.contains(2));
  EXPECT_EQ(timers.take_due(1000), (std::vector<int>{2, 4}));
}

TEST(TimerSet, KeysDueAtTheSameTimeAreAllHandedOut) {
  TimerSet<int> timers;
  timers.schedule(7, 50);
  timers.schedule(3, 50);
  EXPECT_EQ(timers.take_due(50).size(), 2u);
}
