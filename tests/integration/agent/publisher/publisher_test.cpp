// The outbox publisher in-process against the real PostgreSQL and broker.

#include "agent/publisher/publisher_fixture.h"
#include "child_process.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <set>
#include <vector>
#include <thread>

using namespace outflow;
using namespace outflow::agent::publisher;
using namespace std::chrono_literals;

namespace {

class PublisherTest : public agent_tests::PublisherFixture {};

}  // namespace

TEST_F(PublisherTest, RowsArriveWithKeyHeadersAndPayloadIntactAndAreMarkedPublished) {
  const std::string binary("\x00\x01\xfe{\"x\":1}", 10);
  const auto id = db_.insert("order-1", binary, std::nullopt, R"({"tenant":"acme","trace":null})");
  db_.insert(std::nullopt, "keyless");
  auto publisher = start(settings());

  const auto got = testenv::read_topic(topic_, 2, 20s);
  ASSERT_EQ(got.size(), 2u);
  const auto& keyed = got[0].key ? got[0] : got[1];
  const auto& keyless = got[0].key ? got[1] : got[0];
  EXPECT_EQ(keyed.key, "order-1");
  EXPECT_EQ(keyed.value, binary);
  EXPECT_EQ(keyed.headers.at("tenant"), "acme");
  EXPECT_EQ(keyed.headers.at("trace"), std::nullopt);
  const auto event_id = db_.sql().exec("SELECT event_id::text FROM outbox WHERE id = $1", {{std::to_string(id)}});
  EXPECT_EQ(keyed.headers.at("outflow-event-id"), std::string(event_id.value(0, 0)));
  EXPECT_FALSE(keyless.key.has_value());
  EXPECT_EQ(keyless.value, "keyless");

  EXPECT_TRUE(eventually([&] { return db_.pending() == 0; }, 10s));
  EXPECT_EQ(db_.count("attempts = 1 AND last_error IS NULL AND published_at IS NOT NULL"), 2);
  EXPECT_TRUE(eventually([&] { return publisher->stats().published_total == 2; }, 5s));
}

TEST_F(PublisherTest, ACommitWakesThePublisherWithoutWaitingForThePollInterval) {
  auto s = settings();
  s.spec.outbox.poll_interval_ms = 60000;
  auto publisher = start(std::move(s));
  ASSERT_TRUE(eventually([&] { return publisher->stats().owned_buckets == 64; }, 10s));
  std::this_thread::sleep_for(300ms);  // let it settle into its idle wait

  const auto inserted = std::chrono::steady_clock::now();
  db_.insert("k", "woken");
  ASSERT_EQ(testenv::read_topic(topic_, 1, 10s).size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - inserted, 3s) << "NOTIFY did not wake the publisher";
}

// Every commit to the outbox brings a NOTIFY, and libpq keeps each one (about
// 130 bytes) until the session asks for it. A publisher that only asked while
// idle kept every one of them while busy: 30 MiB more after 20 s at 10,000
// commits/s in the peers benchmark, and without bound under a load that
// never lets up.
TEST_F(PublisherTest, TheNotificationsOfABusyOutboxDoNotPileUp) {
  auto publisher = start(settings());
  ASSERT_TRUE(eventually([&] { return publisher->stats().owned_buckets == 64; }, 10s));
  db_.sql().exec(
      "CREATE PROCEDURE commit_rows(n int) LANGUAGE plpgsql AS $$ BEGIN FOR i IN 1..n LOOP "
      "INSERT INTO outbox (event_id, key, payload) VALUES (gen_random_uuid(), 'k' || (i % 100), '\\x00'::bytea); "
      "COMMIT; END LOOP; END $$");
  constexpr int kCommits = 100000;
  std::atomic<bool> done{false};
  std::size_t baseline = mallinfo2().uordblks, peak = baseline;
  std::thread sampler([&] {
    while (!done) {
      peak = std::max(peak, mallinfo2().uordblks);
      std::this_thread::sleep_for(20ms);
    }
  });
  const auto t0 = std::chrono::steady_clock::now();
  db_.sql().exec("CALL commit_rows(" + std::to_string(kCommits) + ")");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(eventually([&] { return db_.pending() == 0; }, 60s));
  done = true;
  sampler.join();
  std::cout << kCommits << " commits in " << seconds << " s; heap in use grew by "
            << (peak - baseline) / 1024 << " KiB at most\n";
  // Piled up, 100,000 notifications hold about 13 MB.
  EXPECT_LT(peak - baseline, 5u * 1024 * 1024);
}

TEST_F(PublisherTest, DeleteAfterPublishDeletesTheRowsKafkaAcknowledged) {
  auto s = settings();
  s.spec.outbox.delete_after_publish = true;
  db_.insert_many(50, 5);
  auto publisher = start(std::move(s));
  ASSERT_EQ(testenv::read_topic(topic_, 50, 20s).size(), 50u);
  EXPECT_TRUE(eventually([&] { return db_.count("true") == 0; }, 10s));
}

TEST_F(PublisherTest, PerKeyOrderFollowsOutboxOrder) {
  db_.insert_many(2000, 17);
  auto publisher = start(settings());
  const auto got = testenv::read_topic(topic_, 2000, 60s);
  ASSERT_EQ(got.size(), 2000u);
  std::map<std::string, int> last;
  for (const auto& m : got) {
    const int n = std::stoi(m.value);
    auto [it, fresh] = last.emplace(*m.key, n);
    if (!fresh) {
      EXPECT_LT(it->second, n) << "key " << *m.key;
      it->second = n;
    }
  }
  EXPECT_EQ(last.size(), 17u);
}

TEST_F(PublisherTest, PoisonRowsAreSetAsideAndBlockOnlyTheLaterRowsOfTheirKey) {
  db_.insert("good", "g1");
  const auto undeclared = db_.insert("blocked", "b1", "shop.not-declared");
  const auto behind = db_.insert("blocked", "b2");
  const auto bad_headers = db_.insert("headers", "h1", std::nullopt, R"({"retries":3})");
  db_.insert("good", "g2");
  db_.insert(std::nullopt, "keyless");
  std::atomic<std::size_t> poisoned{0};
  hooks_.poisoned = [&](std::size_t n) { poisoned += n; };
  auto s = settings();
  // No wait for a config roll here (the agent tests cover the wait).
  s.undeclared_topic_grace = 0ms;
  auto publisher = start(std::move(s));

  auto got = testenv::read_topic(topic_, 3, 20s);
  ASSERT_EQ(got.size(), 3u);
  ASSERT_TRUE(eventually([&] { return db_.count("last_error IS NOT NULL") == 2; }, 10s));
  // Counted once the outbox has the reason, so a moment after the rows show it.
  EXPECT_TRUE(eventually([&] { return poisoned.load() == 2u && publisher->stats().poison_total == 2; }, 5s))
      << poisoned.load();
  const auto reason = db_.sql().exec("SELECT last_error FROM outbox WHERE id = $1", {{std::to_string(undeclared)}});
  EXPECT_NE(std::string(reason.value(0, 0)).find("shop.not-declared"), std::string::npos);
  EXPECT_EQ(db_.count("id = " + std::to_string(behind) + " AND published_at IS NULL"), 1);
  EXPECT_EQ(db_.count("id = " + std::to_string(bad_headers) + " AND last_error LIKE '%retries%'"), 1);

  // A person fixes the row and clears last_error: both rows of the key go out, in order.
  db_.sql().exec("UPDATE outbox SET topic = NULL, last_error = NULL WHERE id = $1", {{std::to_string(undeclared)}});
  got = testenv::read_topic(topic_, 5, 20s);
  ASSERT_EQ(got.size(), 5u);
  std::vector<std::string> blocked_key;
  for (const auto& m : got) if (m.key == "blocked") blocked_key.push_back(m.value);
  EXPECT_EQ(blocked_key, (std::vector<std::string>{"b1", "b2"}));
}

TEST_F(PublisherTest, APayloadOverTheBrokersLimitIsPoisonAndOthersGoOn) {
  const auto big = db_.insert("big", std::string(2 * 1024 * 1024, 'x'));
  db_.insert("small", "fine");
  auto publisher = start(settings());
  ASSERT_EQ(testenv::read_topic(topic_, 1, 20s).size(), 1u);
  ASSERT_TRUE(eventually([&] { return db_.count("last_error IS NOT NULL") == 1; }, 10s));
  // Checked against the topic's real limit before sending.
  EXPECT_EQ(db_.count("id = " + std::to_string(big) + " AND last_error LIKE '%over topic%max.message.bytes%not sent'"), 1);
}

TEST_F(PublisherTest, NothingIsMarkedWhenKafkaNeverAcknowledgesAndTheBreakerOpens) {
  auto s = settings();
  s.kafka.bootstrap_servers = {"127.0.0.1:1"};  // nothing listens there
  s.kafka.request_timeout_ms = 1500;
  std::atomic<int> opened{0};
  hooks_.breaker_transition = [&](const breaker::Transition& t) {
    if (t.to == breaker::State::Open) ++opened;
  };
  db_.insert_many(30, 3);
  auto publisher = start(std::move(s));
  ASSERT_TRUE(eventually([&] { return opened.load() > 0; }, 15s));
  EXPECT_EQ(db_.pending(), 30);
  EXPECT_EQ(db_.count("attempts > 0 OR last_error IS NOT NULL"), 0);
  EXPECT_EQ(publisher->stats().published_total, 0);
  EXPECT_FALSE(publisher->stats().last_error.empty());
}

TEST_F(PublisherTest, ASessionKilledByTheServerIsReplacedAndNothingIsLost) {
  const auto app = testenv::unique_name("agent");
  auto s = settings();
  s.database_url += (s.database_url.find('?') == std::string::npos ? "?" : "&") + std::string("application_name=") + app;
  db_.insert_many(200, 10);
  auto publisher = start(std::move(s));
  ASSERT_TRUE(eventually([&] { return db_.pending() < 200; }, 20s));

  db_.sql().exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", {{app}});
  db_.insert_many(200, 10, 0, 200);
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 30s));
  const auto got = testenv::read_topic(topic_, 400, 20s);
  std::set<std::string> values;
  for (const auto& m : got) values.insert(m.value);
  EXPECT_EQ(values.size(), 400u) << "rows lost";
}

TEST_F(PublisherTest, TwoPublishersSplitTheBucketsAndPublishEveryRow) {
  auto first = start(settings());
  ASSERT_TRUE(eventually([&] { return first->stats().owned_buckets == 64; }, 10s));
  breaker::CircuitBreaker other_breaker{pipeline::BreakerSpec{}, SteadyClock::instance()};
  auto second = std::make_unique<Publisher>(settings(), other_breaker, PublisherHooks{});
  second->start();
  ASSERT_TRUE(eventually(
      [&] { return first->stats().owned_buckets == 32 && second->stats().owned_buckets == 32; }, 10s))
      << first->stats().owned_buckets << " + " << second->stats().owned_buckets;

  db_.insert_many(1000, 50);
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 30s));
  EXPECT_GT(first->stats().published_total, 0);
  EXPECT_GT(second->stats().published_total, 0);
  EXPECT_EQ(first->stats().published_total + second->stats().published_total, 1000);

  second->stop();  // its buckets go back to the first
  EXPECT_TRUE(eventually([&] { return first->stats().owned_buckets == 64; }, 5s));
}

TEST_F(PublisherTest, PublishedRowsPastTheRetentionArePruned) {
  db_.insert_many(20, 4);
  auto s = settings();
  s.spec.outbox.published_retention_ms = 3600000;  // one hour
  s.prune.interval = 200ms;
  auto publisher = start(std::move(s));
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 20s));
  // Half of them were published long ago, as far as the table can tell.
  db_.sql().exec("UPDATE outbox SET published_at = now() - interval '2 hours' WHERE id % 2 = 0");
  ASSERT_TRUE(eventually([&] { return db_.count("true") == 10; }, 10s)) << db_.count("true");
  EXPECT_EQ(db_.count("published_at > now() - interval '1 hour'"), 10);  // recent ones stay
}

TEST_F(PublisherTest, PublishesOverScramAndTlsWithTheSettingsTheAgentLoads) {
  auto s = settings();
  s.kafka.bootstrap_servers = {testenv::require("OUTFLOW_TEST_KAFKA_SASL_SSL")};
  s.kafka.tls = kafka::TlsSettings{testenv::require("OUTFLOW_TEST_KAFKA_CA"), "", ""};
  s.kafka.sasl = kafka::SaslSettings{kafka::SaslMechanism::ScramSha512, testenv::require("OUTFLOW_TEST_KAFKA_SCRAM512_USER"),
                                     testenv::require("OUTFLOW_TEST_KAFKA_SCRAM512_PASSWORD")};
  db_.insert_many(10, 2);
  auto publisher = start(std::move(s));
  EXPECT_EQ(testenv::read_topic(topic_, 10, 20s).size(), 10u);
  EXPECT_TRUE(eventually([&] { return db_.pending() == 0; }, 10s));
}

// Acknowledged rows are marked on a session of their own while the publisher's
// session reads on (mark_session.h). That session dying mid-drain, again and
// again, loses no row and leaves none unmarked: a failed mark's rows are
// marked again by the next one, and at most re-sent, never dropped.
TEST_F(PublisherTest, TheMarkSessionKilledAgainAndAgainMidDrainLosesNoRowAndLeavesNoneUnmarked) {
  constexpr int kRows = 6000;
  db_.insert_many(kRows, 50);
  auto publisher = start(settings());
  int killed = 0;
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (db_.pending() > 0 && std::chrono::steady_clock::now() < until) {
    const auto r = db_.sql().exec(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) AS gone FROM pg_stat_activity "
        "WHERE application_name = 'outflow-agent-marks' AND datname = current_database()) t WHERE gone");
    killed += std::stoi(std::string(r.value(0, 0)));
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GT(killed, 0) << "no mark session was ever seen: the marks did not go out on a session of their own";
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 60s)) << db_.pending() << " row(s) never marked";
  EXPECT_EQ(db_.count("published_at IS NOT NULL AND attempts >= 1"), kRows);

  // Read until every row is there (re-sent ones come on top), or no more come.
  std::vector<testenv::Consumed> got;
  std::set<std::string> values;
  constexpr auto all = static_cast<std::size_t>(kRows);
  for (std::size_t want = all; values.size() < all;) {
    got = testenv::read_topic(topic_, want, 20s);
    values.clear();
    for (const auto& m : got) values.insert(m.value);
    if (got.size() < want) break;
    want = got.size() + (all - values.size());
  }
  EXPECT_EQ(values.size(), all) << "rows lost";
  // Each killed mark sends back at most what was acknowledged since the
  // last mark that went through: a few batches, not the whole outbox.
  EXPECT_LE(got.size() - values.size(), static_cast<std::size_t>(killed) * 3 * 500)
      << "sessions killed: " << killed;
}
