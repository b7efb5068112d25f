// The publisher draining a backlog through its window (drain_window.h): the
// next batch is read while earlier ones are in flight, and still every row
// reaches Kafka and every key's first deliveries follow outbox order, through
// a broker stopped mid-drain and a record batch the broker refuses whole.
// These stop the broker or change a topic under a running publisher, so
// hack/test.sh runs them alone with the other *OutageTest suites.

#include "agent/agent_fixture.h"
#include "agent/outbox_fixture.h"
#include "agent/publisher/publisher_fixture.h"
#include "child_process.h"
#include "common/kafka/admin.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

using namespace outflow;
using namespace outflow::agent::publisher;
using namespace std::chrono_literals;

namespace {

class PublisherWindowOutageTest : public agent_tests::PublisherFixture {
 protected:
  PublisherWindowOutageTest() : PublisherFixture(6) {}

  void SetUp() override {
    PublisherFixture::SetUp();
    spec_.outbox.batch_size = 200;
  }

  // Every row delivered at least once, every key's first deliveries in outbox
  // order. Read to the topic's end, not to `rows` messages: with duplicates
  // a count stops short of the last rows (CI once saw 29,968 of 30,000 that way).
  void expect_all_in_order(std::size_t rows) {
    const auto d = agent_tests::deliveries(testenv::read_whole_topic(topic_, 60s));
    std::printf("%zu rows: %zu distinct delivered, %zu duplicates\n", rows, d.distinct, d.duplicates);
    EXPECT_EQ(d.distinct, rows) << "rows lost";
    agent_tests::expect_per_key_order(d);
  }
};

}  // namespace

TEST_F(PublisherWindowOutageTest, ABacklogIsReadAheadWhileEarlierBatchesFlyAndEveryKeyStaysInOrder) {
  constexpr int kRows = 12000;
  db_.insert_many(kRows, 300, 200);
  auto publisher = start(settings());
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 120s)) << db_.pending() << " rows still pending";
  const auto stats = publisher->stats();
  std::printf("%lld claims, %lld of them read ahead\n", static_cast<long long>(stats.claims_total),
              static_cast<long long>(stats.read_ahead_total));
  EXPECT_GT(stats.read_ahead_total, 0) << "the backlog was drained one batch at a time";
  EXPECT_EQ(stats.published_total, kRows);
  expect_all_in_order(kRows);
}

TEST_F(PublisherWindowOutageTest, ABrokerStoppedMidDrainLosesNoRowAndReordersNoKey) {
  constexpr int kRows = 30000;
  db_.insert_many(kRows, 300, 200);
  auto s = settings();
  s.kafka.request_timeout_ms = 2000;
  s.spec.circuit_breaker.open_duration_ms = 1000;
  auto publisher = start(std::move(s));
  ASSERT_TRUE(eventually([&] { return publisher->stats().read_ahead_total > 2; }, 60s));
  {
    testenv::PartStopped broker("kafka");
    std::this_thread::sleep_for(4s);
  }
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 180s)) << db_.pending() << " rows still pending";
  EXPECT_EQ(db_.count("last_error IS NOT NULL"), 0);
  expect_all_in_order(kRows);
}

TEST_F(PublisherWindowOutageTest, ARecordBatchRefusedWholeMidDrainSetsNoOrdinaryRowAsideAndReordersNoKey) {
  constexpr int kRows = 20000;
  db_.insert_many(kRows, 100, 1000);
  auto publisher = start(settings());
  ASSERT_TRUE(eventually([&] { return publisher->stats().read_ahead_total > 2; }, 60s));
  {
    // The publisher read the 1 MiB default; from now on the broker refuses
    // any record batch over 4 KiB, which it learns only from the refusals.
    auto client = kafka::make_client(RD_KAFKA_PRODUCER,
                                     kafka::make_conf(kafka::client_properties(testenv::plaintext_kafka())));
    const auto outcomes = kafka::alter_topic_configs(client.get(), {{topic_, {{"max.message.bytes", "4096"}}}}, 30s);
    ASSERT_TRUE(outcomes.size() == 1 && outcomes[0].ok());
  }
  ASSERT_GT(db_.pending(), 0) << "the backlog was drained before the limit changed: raise kRows";
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 180s))
      << db_.pending() << " pending, " << db_.count("last_error IS NOT NULL") << " set aside";
  EXPECT_EQ(db_.count("last_error IS NOT NULL"), 0) << "an ordinary row was set aside";
  expect_all_in_order(kRows);
}
