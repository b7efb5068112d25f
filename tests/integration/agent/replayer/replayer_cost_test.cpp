// What the replayer costs: CPU while it waits for a due head, and how fast it
// republishes a backlog of due messages (OUTFLOW_REPLAYER_BENCH_MESSAGES).

#include "agent/replayer/replayer_test_base.h"
#include "agent/replayer/schedule.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include <sys/resource.h>

using namespace outflow;
using namespace outflow::agent::replayer;
using namespace outflow::replayer_tests;
using namespace std::chrono_literals;
using testenv::Record;

// No busy polling: a replayer holding a head that is due in a minute, with
// nothing else to do, sleeps (librdkafka's fetch long-polls aside).
TEST_F(ReplayerTest, WaitingForADueTimeCostsAlmostNoCpu) {
  const auto spec = testenv::create_replay_pipeline(3, 60000, 2, 120000);
  const auto& dlq = spec.dead_letter->topic;
  producer_.send(dlq, "k", "waits a minute", dead_letter_headers(spec.topics[0].name, 1));
  producer_.flush();
  auto replayer = start(testenv::replayer_settings(spec, testenv::unique_name("grp")));
  ASSERT_TRUE(eventually([&] { return replayer->stats().moved_total == 1 && replayer->stats().pending == 1; }, 20s));
  std::this_thread::sleep_for(1s);  // the move's commit goes out

  auto cpu_seconds = [] {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  };
  const auto before = cpu_seconds();
  std::this_thread::sleep_for(3s);
  const auto used = cpu_seconds() - before;
  std::printf("[ REPLAYER ] CPU while waiting 3 s for a due head: %.3f s (%.1f%% of a core)\n", used, used / 3 * 100);
  EXPECT_LT(used, 0.3);
  EXPECT_EQ(replayer->stats().republished_total, 0);
  EXPECT_GE(replayer->stats().paused_partitions, 1u);
  replayer->stop();
}

TEST_F(ReplayerTest, RepublishThroughputOfDueMessages) {
  const int kMessages = std::getenv("OUTFLOW_REPLAYER_BENCH_MESSAGES") ? std::atoi(std::getenv("OUTFLOW_REPLAYER_BENCH_MESSAGES")) : 5000;
  const auto spec = testenv::create_replay_pipeline(3, 500, 2, 4000);
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  // Straight into tier 1, entered a minute ago: all due at once.
  const auto entered = wall_ms() - 60000;
  for (int i = 0; i < kMessages; ++i) {
    producer_.send(retry_tier_topic(dlq, 1), "k" + std::to_string(i % 100), "m" + std::to_string(i),
                   dead_letter_headers(orders, 1), entered);
  }
  producer_.flush();

  auto replayer = start(testenv::replayer_settings(spec, testenv::unique_name("grp")));
  // From the moment the group handed out partitions: joining is not replaying.
  ASSERT_TRUE(eventually([&] { return replayer->stats().assigned_partitions > 0; }, 30s));
  const auto assigned = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return republished() >= kMessages; }, 90s)) << republished();
  std::chrono::steady_clock::time_point first, done;
  {
    std::lock_guard lock(mu_);
    first = first_republish_;
    done = last_republish_;
  }
  // Assignment to last acknowledgement includes fetching the group's offsets
  // and the first fetch; first to last acknowledgement is the steady rate.
  const auto seconds = std::chrono::duration<double>(done - assigned).count();
  const auto steady = std::chrono::duration<double>(done - first).count();
  std::printf("[ REPLAYER ] republished %d due messages: %.0f messages/s from assignment (%.3f s), "
              "%.0f messages/s from first to last acknowledgement (%.3f s)\n",
              kMessages, kMessages / seconds, seconds, steady > 0 ? kMessages / steady : 0.0, steady);
  replayer->stop();
  EXPECT_EQ(testenv::read_all(orders).size(), static_cast<std::size_t>(kMessages));
}
