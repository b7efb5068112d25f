// The dead-letter replayer in-process against the real broker, one replica:
// tiers and due times, parking after maxAttempts, foreign header styles, and
// the breaker holding every produce. Shared parts: replayer_test_base.h.

#include "agent/replayer/replayer_test_base.h"
#include "agent/replayer/schedule.h"
#include "testenv.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

using namespace outflow;
using namespace outflow::agent::replayer;
using namespace outflow::replayer_tests;
using namespace std::chrono_literals;
using testenv::Record;

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
  breaker::CircuitBreaker breaker(hair_trigger(3000), SteadyClock::instance());
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
