// The dead-letter replayer in-process against the real broker: tiers, due
// times, parking, foreign header styles, the breaker, a crash between produce
// and commit, and throughput.

#include "agent/replayer/replayer.h"
#include "agent/replayer/replayer_fixture.h"
#include "agent/replayer/schedule.h"
#include "child_process.h"
#include "testenv.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <functional>

#include <sys/resource.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace outflow;
using namespace outflow::agent::replayer;
using namespace std::chrono_literals;
using testenv::Record;

namespace {

// Polls often: some tests measure how soon things happen.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  return testenv::eventually(condition, timeout, 20ms);
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What an application following the contract adds to a failed message;
// attempt 0 leaves outflow-attempt out (meaning 1).
Headers dead_letter_headers(const std::string& topic, int attempt) {
  Headers h{{"trace-id", "trace-1"},
            {"outflow-original-topic", topic},
            {"outflow-original-partition", "0"},
            {"outflow-original-offset", "17"},
            {"outflow-error", "payment service timed out"},
            {"outflow-failed-at", std::to_string(wall_ms())}};
  if (attempt > 0) h.push_back({"outflow-attempt", std::to_string(attempt)});
  return h;
}

std::map<std::string, Record> by_value(const std::vector<Record>& records) {
  std::map<std::string, Record> out;
  for (const auto& r : records) out.emplace(r.value, r);
  return out;
}

class ReplayerTest : public ::testing::Test {
 protected:
  ReplayerHooks hooks() {
    ReplayerHooks h;
    h.republished = [this](std::size_t n) {
      const auto now = std::chrono::steady_clock::now();
      std::lock_guard lock(mu_);
      if (republished_ == 0) first_republish_ = now;
      republished_ += static_cast<std::int64_t>(n);
      last_republish_ = now;
    };
    h.parked = [this](std::size_t n) { parked_ += static_cast<std::int64_t>(n); };
    h.received = [this](std::size_t n) { received_ += static_cast<std::int64_t>(n); };
    h.due_lag = [this](double seconds) {
      std::lock_guard lock(mu_);
      lags_.push_back(seconds);
    };
    return h;
  }

  std::unique_ptr<Replayer> start(ReplayerSettings settings) {
    auto r = std::make_unique<Replayer>(std::move(settings), breaker_, hooks());
    r->start();
    return r;
  }

  std::int64_t republished() {
    std::lock_guard lock(mu_);
    return republished_;
  }

  breaker::CircuitBreaker breaker_{pipeline::BreakerSpec{}, SteadyClock::instance()};
  std::mutex mu_;
  std::int64_t republished_ = 0;
  std::chrono::steady_clock::time_point first_republish_{}, last_republish_{};  // acknowledgements
  std::vector<double> lags_;
  std::atomic<std::int64_t> parked_{0};
  std::atomic<std::int64_t> received_{0};
  testenv::TestProducer producer_;
};

}  // namespace

TEST_F(ReplayerTest, AttemptsWaitInTheirTierAreRepublishedOnTimeAndParkedAfterMaxAttempts) {
  const auto spec = testenv::create_replay_pipeline(3, 500, 2, 4000);
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  const RetrySchedule schedule(*spec.dead_letter);
  constexpr int kPerAttempt = 20;
  for (int attempt = 1; attempt <= 4; ++attempt) {
    for (int i = 0; i < kPerAttempt; ++i) {
      // Attempt 1 both ways: the header absent, and "1".
      const int header = attempt == 1 && i % 2 == 0 ? 0 : attempt;
      producer_.send(dlq, "k" + std::to_string(i), fmt::format("a{}-{}", attempt, i),
                     dead_letter_headers(orders, header));
    }
  }
  producer_.flush();

  auto replayer = start(testenv::replayer_settings(spec, testenv::unique_name("grp")));
  const auto republished = testenv::read_until(
      orders, [](const auto& r) { return r.size() >= 3 * kPerAttempt; }, 30s);
  const auto parked = testenv::read_until(
      parked_topic(dlq), [](const auto& r) { return r.size() >= kPerAttempt; }, 10s);
  ASSERT_EQ(republished.size(), 3u * kPerAttempt);
  ASSERT_EQ(parked.size(), static_cast<std::size_t>(kPerAttempt));

  std::vector<double> lateness_ms;
  for (int tier = 1; tier <= 3; ++tier) {
    const auto in_tier = by_value(testenv::read_all(retry_tier_topic(dlq, tier)));
    ASSERT_EQ(in_tier.size(), static_cast<std::size_t>(kPerAttempt)) << "tier " << tier;
    for (const auto& [value, record] : in_tier) {
      EXPECT_EQ(value.substr(0, 3), fmt::format("a{}-", tier)) << "tier " << tier << " holds " << value;
    }
    for (const auto& r : republished) {
      const auto it = in_tier.find(r.value);
      if (it == in_tier.end()) continue;
      EXPECT_EQ(r.header("outflow-attempt"), std::to_string(tier + 1)) << r.value;
      EXPECT_EQ(r.header("trace-id"), "trace-1") << "other headers are kept";
      EXPECT_EQ(r.header("outflow-error"), "payment service timed out");
      EXPECT_EQ(r.key, it->second.key);
      const auto due = schedule.due_ms(tier, it->second.timestamp_ms);
      lateness_ms.push_back(static_cast<double>(r.timestamp_ms - due));
    }
  }
  ASSERT_EQ(lateness_ms.size(), 3u * kPerAttempt);
  for (const double l : lateness_ms) {
    EXPECT_GE(l, 0) << "republished before due";
    EXPECT_LE(l, 1000) << "republished more than 1 s after due";
  }
  std::printf("[ REPLAYER ] due-time lateness over %zu republished messages: p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
              lateness_ms.size(), testenv::percentile(lateness_ms, 50), testenv::percentile(lateness_ms, 99),
              testenv::percentile(lateness_ms, 100));
  {
    std::lock_guard lock(mu_);
    std::printf("[ REPLAYER ] due lag the replayer measured itself (produce call minus due): p50 %.0f ms, p99 %.0f ms\n",
                testenv::percentile(lags_, 50) * 1000, testenv::percentile(lags_, 99) * 1000);
  }

  for (const auto& p : parked) {
    EXPECT_EQ(p.value.substr(0, 3), "a4-");
    EXPECT_EQ(p.header("outflow-parked-reason"), "retries used up: attempt 4 failed and deadLetter.maxAttempts is 3");
    EXPECT_EQ(p.header("trace-id"), "trace-1");
    EXPECT_EQ(p.header("outflow-attempt"), "4");
  }
  ASSERT_TRUE(eventually([&] { return replayer->stats().pending == 0; }, 5s));
  const auto stats = replayer->stats();
  EXPECT_EQ(stats.received_total, 4 * kPerAttempt);
  EXPECT_EQ(stats.moved_total, 3 * kPerAttempt);
  EXPECT_EQ(stats.republished_total, 3 * kPerAttempt);
  EXPECT_EQ(stats.parked_total, kPerAttempt);
  EXPECT_EQ(received_.load(), 4 * kPerAttempt);
  EXPECT_EQ(parked_.load(), kPerAttempt);
  replayer->stop();
}

// An application that fails every delivery: the message goes round the
// ladder once per tier and is parked after maxAttempts retries.
TEST_F(ReplayerTest, AMessageThatAlwaysFailsGoesRoundEveryTierAndIsParked) {
  const auto spec = testenv::create_replay_pipeline(3, 300, 2, 4000);
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  auto replayer = start(testenv::replayer_settings(spec, testenv::unique_name("grp")));
  producer_.send(dlq, "order-1", "payload", dead_letter_headers(orders, 0));
  producer_.flush();

  std::set<std::int64_t> failed;  // offsets in `orders` the "application" already sent back
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::vector<Record> parked;
  while (parked.empty() && std::chrono::steady_clock::now() < deadline) {
    for (const auto& r : testenv::read_all(orders)) {
      if (!failed.insert(r.offset).second) continue;
      // As the contract says: unchanged, plus the failure headers (the
      // replayer's outflow-attempt is already among r.headers).
      auto headers = r.headers;
      headers.push_back({"outflow-original-topic", orders});
      headers.push_back({"outflow-error", "still failing"});
      producer_.send(dlq, r.key, r.value, headers);
      producer_.flush();
    }
    parked = testenv::read_all(parked_topic(dlq));
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0].value, "payload");
  EXPECT_EQ(parked[0].key, "order-1");
  EXPECT_EQ(parked[0].header("outflow-parked-reason"),
            "retries used up: attempt 4 failed and deadLetter.maxAttempts is 3");
  const auto attempts = testenv::read_all(orders);
  ASSERT_EQ(attempts.size(), 3u);
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    EXPECT_EQ(attempts[i].header("outflow-attempt"), std::to_string(i + 2));
  }
  replayer->stop();
}

TEST_F(ReplayerTest, ALongDelayDoesNotHoldBackAShortOneOnAnotherTier) {
  const auto spec = testenv::create_replay_pipeline(3, 500, 10, 8000);  // tiers: 0.5 s, 5 s, 8 s
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  // The slow one first, on the same key (so the same dead-letter partition).
  producer_.send(dlq, "same-key", "slow", dead_letter_headers(orders, 3));
  producer_.send(dlq, "same-key", "fast", dead_letter_headers(orders, 1));
  producer_.flush();
  const auto sent = wall_ms();

  auto replayer = start(testenv::replayer_settings(spec, testenv::unique_name("grp")));
  const auto first = testenv::read_until(orders, [](const auto& r) { return !r.empty(); }, 15s);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].value, "fast");
  const auto both = testenv::read_until(orders, [](const auto& r) { return r.size() >= 2; }, 20s);
  ASSERT_EQ(both.size(), 2u);
  const auto records = by_value(both);
  EXPECT_LT(records.at("fast").timestamp_ms, records.at("slow").timestamp_ms);
  EXPECT_GE(records.at("slow").timestamp_ms - sent, 8000) << "the slow one waited its tier's delay";
  std::printf("[ REPLAYER ] fast (0.5 s tier) out after %lld ms, slow (8 s tier) after %lld ms\n",
              static_cast<long long>(records.at("fast").timestamp_ms - sent),
              static_cast<long long>(records.at("slow").timestamp_ms - sent));
  replayer->stop();
}

TEST_F(ReplayerTest, SpringAndConnectDeadLettersAreReplayedAndUnusableOnesParkedWithAReason) {
  const auto spec = testenv::create_replay_pipeline(3, 300, 2, 4000);
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  const auto& payments = spec.topics[1].name;
  const std::string partition_be("\x00\x00\x00\x01", 4);
  const std::string offset_be("\x00\x00\x00\x00\x00\x00\x00\x2a", 8);
  producer_.send(dlq, "s", "spring",
                 {{"kafka_dlt-original-topic", payments},
                  {"kafka_dlt-original-partition", partition_be},
                  {"kafka_dlt-original-offset", offset_be},
                  {"kafka_dlt-exception-fqcn", "java.lang.IllegalStateException"},
                  {"kafka_dlt-exception-message", "bad payment"}});
  producer_.send(dlq, "c", "connect",
                 {{"__connect.errors.topic", orders},
                  {"__connect.errors.partition", "1"},
                  {"__connect.errors.offset", "7"},
                  {"__connect.errors.stage", "VALUE_CONVERTER"},
                  {"__connect.errors.exception.message", "Failed to convert"}});
  producer_.send(dlq, std::nullopt, "headerless", {});
  producer_.send(dlq, "f", "foreign", dead_letter_headers("billing.invoices", 1));
  producer_.send(dlq, "b", "bad-attempt", {{"outflow-original-topic", orders}, {"outflow-attempt", "x"}});
  producer_.flush();

  auto replayer = start(testenv::replayer_settings(spec, testenv::unique_name("grp")));
  const auto to_payments = testenv::read_until(payments, [](const auto& r) { return !r.empty(); }, 20s);
  const auto to_orders = testenv::read_until(orders, [](const auto& r) { return !r.empty(); }, 10s);
  const auto parked = by_value(
      testenv::read_until(parked_topic(dlq), [](const auto& r) { return r.size() >= 3; }, 10s));

  ASSERT_EQ(to_payments.size(), 1u);
  EXPECT_EQ(to_payments[0].value, "spring");
  EXPECT_EQ(to_payments[0].header("outflow-attempt"), "2");
  EXPECT_EQ(to_payments[0].header("kafka_dlt-original-offset"), offset_be) << "Spring's headers are kept";
  ASSERT_EQ(to_orders.size(), 1u);
  EXPECT_EQ(to_orders[0].value, "connect");
  EXPECT_EQ(to_orders[0].header("outflow-attempt"), "2");
  EXPECT_EQ(to_orders[0].header("__connect.errors.stage"), "VALUE_CONVERTER");

  ASSERT_EQ(parked.size(), 3u);
  EXPECT_EQ(parked.at("headerless").header("outflow-parked-reason"),
            "no original-topic header (outflow-original-topic, kafka_dlt-original-topic or __connect.errors.topic)");
  EXPECT_EQ(parked.at("headerless").key, std::nullopt);
  EXPECT_EQ(parked.at("foreign").header("outflow-parked-reason"),
            "original topic billing.invoices is not part of the pipeline");
  EXPECT_EQ(parked.at("foreign").header("trace-id"), "trace-1");
  EXPECT_EQ(parked.at("bad-attempt").header("outflow-parked-reason"),
            "outflow-attempt header \"x\" is not a positive integer");
  replayer->stop();
}

TEST_F(ReplayerTest, NothingIsProducedWhileTheBreakerIsOpen) {
  pipeline::BreakerSpec spec_breaker;
  spec_breaker.failure_rate_threshold = 100;
  spec_breaker.minimum_calls = 1;
  spec_breaker.window_size = 1;
  spec_breaker.open_duration_ms = 3000;
  spec_breaker.half_open_calls = 1;
  breaker::CircuitBreaker breaker(spec_breaker, SteadyClock::instance());
  ASSERT_TRUE(breaker.record_failure().has_value());  // Open for 3 s from now
  const auto opened = std::chrono::steady_clock::now();

  const auto spec = testenv::create_replay_pipeline(3, 300, 2, 4000);
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  producer_.send(dlq, "k", "held", dead_letter_headers(orders, 1));
  producer_.flush();
  Replayer replayer(testenv::replayer_settings(spec, testenv::unique_name("grp")), breaker, hooks());
  replayer.start();

  ASSERT_TRUE(eventually([&] { return replayer.stats().pending == 1; }, 10s));
  if (std::chrono::steady_clock::now() - opened < 2500ms) {
    EXPECT_TRUE(testenv::read_all(retry_tier_topic(dlq, 1)).empty()) << "moved while the breaker was open";
    EXPECT_GE(replayer.stats().paused_partitions, 1u);
  }
  const auto out = testenv::read_until(orders, [](const auto& r) { return !r.empty(); }, 20s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_GE(std::chrono::steady_clock::now() - opened, 3000ms);
  EXPECT_EQ(breaker.snapshot().state, breaker::State::Closed);
  replayer.stop();
}

// Replicas of one pipeline share the group: every partition is read by
// exactly one of them, and each dead letter is republished once.
TEST_F(ReplayerTest, TwoReplicasShareThePartitionsAndReplayEachMessageOnce) {
  const auto spec = testenv::create_replay_pipeline(3, 300, 2, 4000, 2);  // 2 × (dlq + 3 tiers) = 8 partitions
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  const auto group = testenv::unique_name("grp");
  auto a = start(testenv::replayer_settings(spec, group));
  auto b = start(testenv::replayer_settings(spec, group));
  ASSERT_TRUE(eventually(
      [&] {
        const auto sa = a->stats().assigned_partitions, sb = b->stats().assigned_partitions;
        return sa > 0 && sb > 0 && sa + sb == 8;
      },
      30s))
      << a->stats().assigned_partitions << " + " << b->stats().assigned_partitions;

  constexpr int kMessages = 400;
  for (int i = 0; i < kMessages; ++i) {
    producer_.send(dlq, "k" + std::to_string(i), "m" + std::to_string(i), dead_letter_headers(orders, 1 + i % 3));
  }
  producer_.flush();
  const auto out = testenv::read_until(orders, [](const auto& r) { return r.size() >= kMessages; }, 30s);
  std::set<std::string> distinct;
  for (const auto& r : out) distinct.insert(r.value);
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kMessages));
  EXPECT_EQ(out.size(), static_cast<std::size_t>(kMessages)) << "no duplicates without a failure";
  EXPECT_GT(a->stats().received_total, 0);
  EXPECT_GT(b->stats().received_total, 0);
  EXPECT_EQ(a->stats().received_total + b->stats().received_total, kMessages);
  a->stop();
  b->stop();
}

// A replica joining while the first has messages in flight and heads held:
// the first finishes and commits what it handed over, nothing is lost.
TEST_F(ReplayerTest, AReplicaJoiningMidStreamLosesNothing) {
  const auto spec = testenv::create_replay_pipeline(3, 300, 2, 4000, 2);
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  const auto group = testenv::unique_name("grp");
  auto a = start(testenv::replayer_settings(spec, group));
  ASSERT_TRUE(eventually([&] { return a->stats().assigned_partitions == 8; }, 30s));

  constexpr int kMessages = 1000;
  std::unique_ptr<Replayer> b;
  for (int i = 0; i < kMessages; ++i) {
    producer_.send(dlq, "k" + std::to_string(i % 37), "m" + std::to_string(i), dead_letter_headers(orders, 1 + i % 3));
    if (i % 100 == 99) {
      producer_.flush();
      std::this_thread::sleep_for(100ms);
    }
    if (i == kMessages / 2) b = start(testenv::replayer_settings(spec, group));
  }
  producer_.flush();
  std::vector<std::string> subscribed{dlq};
  for (int tier = 1; tier <= 3; ++tier) subscribed.push_back(retry_tier_topic(dlq, tier));
  ASSERT_TRUE(eventually(
      [&] {
        return a->stats().pending == 0 && b->stats().pending == 0 && testenv::group_caught_up(group, subscribed);
      },
      60s));
  const auto out = testenv::read_all(orders);
  std::set<std::string> distinct;
  for (const auto& r : out) distinct.insert(r.value);
  std::printf("[ REPLAYER ] replica joined mid-stream: %zu republished, %zu distinct, %zu duplicates; "
              "partitions %zu + %zu\n",
              out.size(), distinct.size(), out.size() - distinct.size(), a->stats().assigned_partitions,
              b->stats().assigned_partitions);
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kMessages)) << "a dead letter was lost";
  EXPECT_GT(b->stats().assigned_partitions, 0u);
  a->stop();
  b->stop();
}

// A partition paused to hold its head, taken away by a rebalance and given
// back, must be read again: librdkafka keeps the pause across the reassignment.
TEST_F(ReplayerTest, AHeldPartitionTakenAwayAndGivenBackIsReadAgain) {
  const auto spec = testenv::create_replay_pipeline(3, 4000, 2, 8000, 1);
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  const auto group = testenv::unique_name("grp");
  auto a = start(testenv::replayer_settings(spec, group));
  producer_.send(dlq, "k", "held across rebalances", dead_letter_headers(orders, 1));
  producer_.flush();
  ASSERT_TRUE(eventually([&] { return a->stats().moved_total == 1 && a->stats().paused_partitions == 1; }, 20s));

  {  // A second replica joins and leaves: two rebalances, A ends up with everything again.
    auto b = start(testenv::replayer_settings(spec, group));
    ASSERT_TRUE(eventually([&] { return b->stats().assigned_partitions > 0; }, 30s));
    b->stop();
  }
  ASSERT_TRUE(eventually([&] { return a->stats().assigned_partitions == 4; }, 30s));
  const auto out = testenv::read_until(orders, [](const auto& r) { return !r.empty(); }, 20s);
  ASSERT_EQ(out.size(), 1u) << "the held partition was never read again";
  EXPECT_EQ(out[0].value, "held across rebalances");
  a->stop();
}

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

namespace {

struct CrashOutcome {
  std::int64_t before_crash = 0;
  std::size_t total = 0;
  std::size_t unique = 0;
};

}  // namespace

class ReplayerCrashTest : public ReplayerTest {
 protected:
  // `n` dead letters sent over about two seconds; the first replayer is
  // abandoned (as if SIGKILLed: nothing flushed, nothing committed, the group
  // not told) halfway through, with messages in every stage, and a second
  // one in the same group takes over and finishes.
  CrashOutcome crash_halfway(int n, std::chrono::milliseconds first_commit_interval) {
    const auto spec = testenv::create_replay_pipeline(3, 500, 2, 4000);
    const auto& dlq = spec.dead_letter->topic;
    const auto& orders = spec.topics[0].name;
    const auto group = testenv::unique_name("grp");

    CrashOutcome outcome;
    auto settings = testenv::replayer_settings(spec, group);
    settings.commit_interval = first_commit_interval;
    // A window far above n: commits come only by time, as the test asks.
    settings.max_in_flight = 1'000'000;
    auto first = start(settings);
    EXPECT_TRUE(eventually([&] { return first->stats().assigned_partitions > 0; }, 30s));
    std::unique_ptr<Replayer> second;
    for (int i = 0; i < n; ++i) {
      producer_.send(dlq, "k" + std::to_string(i % 50), "m" + std::to_string(i), dead_letter_headers(orders, 1));
      if (i % 100 == 99) {
        producer_.flush();
        std::this_thread::sleep_for(100ms);
      }
      if (i == n / 2) {
        // Enough time for the first messages to come out of tier 1.
        std::this_thread::sleep_for(700ms);
        first->abandon();
        outcome.before_crash = first->stats().republished_total;
        second = start(testenv::replayer_settings(spec, group));
      }
    }
    producer_.flush();

    std::vector<std::string> subscribed{dlq};
    for (int tier = 1; tier <= 3; ++tier) subscribed.push_back(retry_tier_topic(dlq, tier));
    EXPECT_TRUE(eventually(
        [&] {
          return second->stats().pending == 0 && second->stats().republished_total > 0 &&
                 testenv::group_caught_up(group, subscribed);
        },
        90s));
    second->stop();
    std::set<std::string> seen;
    const auto all = testenv::read_all(orders);
    for (const auto& r : all) seen.insert(r.value);
    outcome.total = all.size();
    outcome.unique = seen.size();
    return outcome;
  }
};

TEST_F(ReplayerCrashTest, KilledBetweenProduceAndCommitLosesNothing) {
  constexpr int kMessages = 2000;
  const auto o = crash_halfway(kMessages, 300ms);
  std::printf("[ REPLAYER ] crash with commits every 300 ms: %lld republished before the crash, %zu in total, "
              "%zu distinct, %zu duplicates\n",
              static_cast<long long>(o.before_crash), o.total, o.unique, o.total - o.unique);
  EXPECT_GT(o.before_crash, 0);
  EXPECT_LT(o.before_crash, kMessages);
  EXPECT_EQ(o.unique, static_cast<std::size_t>(kMessages)) << "a dead letter was lost";
}

TEST_F(ReplayerCrashTest, KilledBeforeAnyCommitRepeatsButLosesNothing) {
  constexpr int kMessages = 1000;
  const auto o = crash_halfway(kMessages, 1h);  // nothing committed before the crash
  std::printf("[ REPLAYER ] crash before any commit: %lld republished before the crash, %zu in total, "
              "%zu distinct, %zu duplicates\n",
              static_cast<long long>(o.before_crash), o.total, o.unique, o.total - o.unique);
  EXPECT_EQ(o.unique, static_cast<std::size_t>(kMessages)) << "a dead letter was lost";
  EXPECT_GE(o.total - o.unique, static_cast<std::size_t>(o.before_crash))
      << "everything acknowledged but not committed before the crash is sent again";
}

// Issue 17: SIGKILL shortly into a burst of due dead letters. Before, commits
// came every 500 ms whatever the rate, and a dead letter moved to its tier but
// not committed was moved again by the successor and then republished twice:
// 62% of a 50,000 burst came out twice. Now what a crash repeats is bounded by
// the in-flight window, and a second tier copy is recognised and dropped.
TEST_F(ReplayerCrashTest, ACrashDuringABurstRepeatsAtMostTheInFlightWindow) {
  constexpr int kMessages = 50000;
  const auto spec = testenv::create_replay_pipeline(3, 200, 2, 4000);
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  const auto group = testenv::unique_name("grp");
  for (int i = 0; i < kMessages; ++i) {
    producer_.send(dlq, "k" + std::to_string(i % 1000), "m" + std::to_string(i), dead_letter_headers(orders, 1));
  }
  producer_.flush();

  auto settings = testenv::replayer_settings(spec, group);
  settings.commit_interval = ReplayerSettings{}.commit_interval;  // as the agent runs
  settings.max_in_flight = ReplayerSettings{}.max_in_flight;  // the README's bound: 5,000
  auto first = start(settings);
  // Both stages busy: moves to tier 1 and republishes out of it.
  ASSERT_TRUE(eventually([&] { return first->stats().republished_total >= 1000; }, 60s));
  first->abandon();
  const auto before = first->stats();
  auto second = start(settings);

  std::vector<std::string> subscribed{dlq};
  for (int tier = 1; tier <= 3; ++tier) subscribed.push_back(retry_tier_topic(dlq, tier));
  ASSERT_TRUE(eventually(
      [&] { return second->stats().pending == 0 && testenv::group_caught_up(group, subscribed); }, 90s));
  const auto repeats_dropped = second->stats().repeats_dropped;
  second->stop();
  const auto all = testenv::read_all(orders);
  std::set<std::string> distinct;
  for (const auto& r : all) distinct.insert(r.value);
  const auto duplicates = all.size() - distinct.size();
  std::printf("[ REPLAYER ] crash into a burst of %d: %lld moved and %lld republished before the crash, "
              "%zu republished in total, %zu duplicates (bound: max_in_flight %zu); %lld second tier copies "
              "dropped\n",
              kMessages, static_cast<long long>(before.moved_total), static_cast<long long>(before.republished_total),
              all.size(), duplicates, settings.max_in_flight, static_cast<long long>(repeats_dropped));
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kMessages)) << "a dead letter was lost";
  EXPECT_LE(duplicates, settings.max_in_flight);
}

// Issue 17: a dead letter moved to its tier twice (the successor of a crashed
// replica moves again what it moved but did not commit) is republished once,
// even when the first copy was republished and committed before the
// successor started: it looks back past the committed offset.
TEST_F(ReplayerTest, ASecondTierCopyOfOneDeadLetterIsRepublishedOnce) {
  const auto spec = testenv::create_replay_pipeline(3, 200, 2, 4000, 1);
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  const auto tier1 = retry_tier_topic(dlq, 1);
  const auto group = testenv::unique_name("grp");
  std::vector<std::string> subscribed{dlq};
  for (int tier = 1; tier <= 3; ++tier) subscribed.push_back(retry_tier_topic(dlq, tier));

  producer_.send(dlq, "k1", "moved twice", dead_letter_headers(orders, 1));
  producer_.flush();
  {
    auto first = start(testenv::replayer_settings(spec, group));
    ASSERT_TRUE(eventually([&] { return republished() == 1 && testenv::group_caught_up(group, subscribed); }, 30s));
    first->stop();
  }
  const auto copies = testenv::read_all(tier1);
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].header("outflow-moved-from"), dlq + "/0/0");
  // The successor's repeat of that move, then a dead letter of its own.
  producer_.send(tier1, copies[0].key, copies[0].value, copies[0].headers);
  auto other = dead_letter_headers(orders, 1);
  other.push_back({"outflow-moved-from", dlq + "/0/1"});
  producer_.send(tier1, "k2", "moved once", other);
  producer_.flush();

  auto second = start(testenv::replayer_settings(spec, group));
  ASSERT_TRUE(eventually([&] { return republished() == 2 && testenv::group_caught_up(group, subscribed); }, 30s));
  EXPECT_EQ(second->stats().repeats_dropped, 1);
  second->stop();
  const auto out = testenv::read_all(orders);
  std::map<std::string, int> count;
  for (const auto& r : out) {
    ++count[r.value];
    EXPECT_EQ(r.header("outflow-moved-from"), std::nullopt) << "a tier position means nothing to the application";
  }
  EXPECT_EQ(count, (std::map<std::string, int>{{"moved once", 1}, {"moved twice", 1}}));
}

// Issue 17: a replica SIGKILLed and restarted (a container restart keeps the
// pod name) used to leave its partitions unserved until the dead member's
// session expired, then rebalance again. With group.instance.id set to the
// pod name, the restarted replica takes its old member's place at once.
TEST_F(ReplayerTest, AReplicaKilledAndRestartedUnderItsPodNameServesItsPartitionsAtOnce) {
  const auto spec = testenv::create_replay_pipeline(3, 300, 2, 4000, 2);
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  const auto group = testenv::unique_name("grp");
  const auto settings_for = [&](const std::string& pod) {
    auto s = testenv::replayer_settings(spec, group);
    s.instance_id = pod;
    s.session_timeout = ReplayerSettings{}.session_timeout;  // as the agent runs: 10 s
    return s;
  };
  auto a = start(settings_for("orders-agent-a"));
  auto b = start(settings_for("orders-agent-b"));
  ASSERT_TRUE(eventually(
      [&] {
        const auto sa = a->stats().assigned_partitions, sb = b->stats().assigned_partitions;
        return sa > 0 && sb > 0 && sa + sb == 8;
      },
      40s));

  a->abandon();  // SIGKILL
  const auto killed = std::chrono::steady_clock::now();
  auto restarted = start(settings_for("orders-agent-a"));
  constexpr int kMessages = 200;
  for (int i = 0; i < kMessages; ++i) {
    producer_.send(dlq, "k" + std::to_string(i), "m" + std::to_string(i), dead_letter_headers(orders, 1));
  }
  producer_.flush();
  ASSERT_TRUE(eventually([&] { return republished() >= kMessages; }, 60s)) << republished();
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  std::printf("[ REPLAYER ] replica killed and restarted under its pod name: all %d dead letters (300 ms tier) "
              "republished %.1f s after the kill; partitions %zu + %zu\n",
              kMessages, seconds, restarted->stats().assigned_partitions, b->stats().assigned_partitions);
  EXPECT_LT(seconds, 5.0) << "the restarted replica waited for the dead member's session (10 s)";
  EXPECT_GT(restarted->stats().assigned_partitions, 0u);
  std::set<std::string> distinct;
  for (const auto& r : testenv::read_all(orders)) distinct.insert(r.value);
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kMessages));

  // A replica stopped for good (SIGTERM: a rolling update's old pod) leaves
  // the group although it is a static member: the other takes over at once,
  // not after its session.
  const auto stopped = std::chrono::steady_clock::now();
  b->stop();
  ASSERT_TRUE(eventually([&] { return restarted->stats().assigned_partitions == 8; }, 30s));
  const auto handover = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped).count();
  std::printf("[ REPLAYER ] a static member stopped for good: its partitions moved on after %.1f s\n", handover);
  EXPECT_LT(handover, 5.0);
  restarted->stop();
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

// Stops the broker: run alone (hack/test.sh runs every *OutageTest suite by
// itself).
class ReplayerOutageTest : public ReplayerTest {};

// Issue 17: after a 30 s broker outage the group was reassigned only ~19 s
// after the broker was back. Two replicas with static membership: dead
// letters that fell due during the outage go out within the bound of the
// README after the broker returns.
TEST_F(ReplayerOutageTest, DeadLettersDueDuringABrokerOutageGoOutSoonAfterItEnds) {
  pipeline::BreakerSpec quick;
  quick.open_duration_ms = 1000;  // the breaker's own wait is not what this measures
  breaker::CircuitBreaker breaker(quick, SteadyClock::instance());
  const auto spec = testenv::create_replay_pipeline(3, 3000, 2, 8000, 2);
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  const auto group = testenv::unique_name("grp");
  std::vector<std::unique_ptr<Replayer>> replicas;
  for (const auto* pod : {"orders-agent-a", "orders-agent-b"}) {
    auto s = testenv::replayer_settings(spec, group);
    s.instance_id = pod;
    s.session_timeout = ReplayerSettings{}.session_timeout;
    replicas.push_back(std::make_unique<Replayer>(s, breaker, hooks()));
    replicas.back()->start();
  }
  const auto moved = [&] {
    std::int64_t n = 0;
    for (const auto& r : replicas) n += r->stats().moved_total;
    return n;
  };
  ASSERT_TRUE(eventually(
      [&] { return replicas[0]->stats().assigned_partitions + replicas[1]->stats().assigned_partitions == 8; }, 40s));
  constexpr int kMessages = 40;
  for (int i = 0; i < kMessages; ++i) {
    producer_.send(dlq, "k" + std::to_string(i), "m" + std::to_string(i), dead_letter_headers(orders, 1));
  }
  producer_.flush();
  ASSERT_TRUE(eventually([&] { return moved() >= kMessages; }, 20s));  // in tier 1, due in 3 s

  std::chrono::steady_clock::time_point back;
  {
    testenv::PartStopped kafka("kafka");
    std::this_thread::sleep_for(15s);  // the outage itself: nothing to poll for
    kafka.restart();
    back = std::chrono::steady_clock::now();
  }
  ASSERT_TRUE(eventually([&] { return republished() >= kMessages; }, 60s)) << republished();
  std::chrono::steady_clock::time_point last;
  {
    std::lock_guard lock(mu_);
    last = last_republish_;
  }
  const auto recovery = std::chrono::duration<double>(last - back).count();
  std::printf("[ REPLAYER ] 15 s broker outage: the last of %d dead letters due during it went out %.1f s after "
              "the broker was back\n",
              kMessages, recovery);
  EXPECT_LT(recovery, 10.0);
  std::set<std::string> distinct;
  for (const auto& r : testenv::read_all(orders)) distinct.insert(r.value);
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kMessages));
  for (auto& r : replicas) r->stop();
}
