// The publisher's promises through a broker that hangs or goes away: no row
// lost, every key's first deliveries in outbox order, the breaker open within
// requestTimeoutMs however few rows were in flight, gauges that keep moving,
// and a prompt drain once the broker is back. These freeze or stop the shared
// broker, so hack/test.sh runs every *OutageTest suite alone.

#include "agent/agent_fixture.h"
#include "common/time_format.h"
#include "testenv.h"

#include <atomic>
#include <fmt/format.h>
#include <cstdio>
#include <thread>

namespace outflow::agent_tests {
namespace {

using AgentDeliveryOutageTest = AgentTest;

TEST_F(AgentDeliveryOutageTest, ABrokerFrozenPastTheRequestTimeoutMidStreamReordersNoKeyAndLosesNothing) {
  spec()["kafka"]["requestTimeoutMs"] = 2000;
  spec()["circuitBreaker"] = {{"openDurationMs", 1000}};
  auto& agent = start_agent("orders-agent-0");
  constexpr int kChunks = 40, kPerChunk = 100, kKeys = 40;
  // A session of its own: the fixture's is not for two threads.
  auto conn = pg::Connection::open(testenv::require("OUTFLOW_TEST_PG_URL"));
  conn.exec("SET search_path TO " + db_.schema());
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int c = 0; c < kChunks; ++c) {
      conn.exec(fmt::format("INSERT INTO outbox (event_id, key, payload) SELECT gen_random_uuid(), 'k' || (i % {}), "
                            "convert_to(i::text, 'UTF8') FROM generate_series({}, {}) AS i ORDER BY i",
                            kKeys, c * kPerChunk, c * kPerChunk + kPerChunk - 1));
      written += kPerChunk;
      std::this_thread::sleep_for(100ms);
    }
  });
  ASSERT_TRUE(eventually([&] { return db_.count("published_at IS NOT NULL") >= 300; }, 20s));
  {
    // Frozen longer than requestTimeoutMs: messages in flight get no answer
    // while the rows behind them keep coming.
    testenv::BrokerFrozen frozen;
    std::this_thread::sleep_for(3500ms);
  }
  writer.join();
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 60s)) << db_.pending() << " rows still pending";
  const auto d = deliveries(testenv::read_whole_topic(topic_, 20s));
  std::printf("frozen broker: %d rows, %zu distinct delivered, %zu duplicates\n", kChunks * kPerChunk, d.distinct,
              d.duplicates);
  EXPECT_EQ(d.distinct, static_cast<std::size_t>(kChunks * kPerChunk)) << "rows lost";
  expect_per_key_order(d);
  EXPECT_EQ(agent.log().find("order of key"), std::string::npos);
}

TEST_F(AgentDeliveryOutageTest, ABrokerOutageOpensTheBreakerWithinTheRequestTimeoutEvenWithFewRowsInFlight) {
  // The default window: 20 calls at least. Five rows in flight could never
  // open it by failure rate; Kafka's silence must.
  spec()["kafka"]["requestTimeoutMs"] = 2000;
  spec()["circuitBreaker"] = {{"openDurationMs", 2000}};
  auto& agent = start_agent("orders-agent-0");
  db_.insert_many(10, 5);
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 30s));

  testenv::PartStopped broker("kafka");
  const auto stopped = std::chrono::steady_clock::now();
  db_.insert_many(5, 5, 0, 10);
  ASSERT_TRUE(eventually([&] { return agent.metric("outflow_breaker_state") == 1; }, 15s))
      << "the breaker never opened";
  const double open_after = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped).count();
  std::printf("breaker open %.1f s after the broker stopped (requestTimeoutMs 2 s)\n", open_after);
  EXPECT_LE(open_after, 2.0 + 2.5);  // requestTimeoutMs, plus librdkafka noticing the broker gone
  ASSERT_TRUE(eventually(
      [&] {
        const auto entry = agent_entry("orders-agent-0");
        return entry && entry->value("breaker", "") != "Closed";
      },
      5s))
      << "status.agents never showed the breaker open";

  // The gauges keep moving while the outage lasts, whatever the loop waits on.
  db_.insert_many(2000, 50, 0, 15);
  ASSERT_TRUE(eventually([&] { return agent.metric("outflow_outbox_backlog") >= 2005; }, 6s))
      << "backlog gauge stuck at " << agent.metric("outflow_outbox_backlog");
  const auto shown = agent_entry("orders-agent-0");
  ASSERT_TRUE(shown.has_value());
  EXPECT_FALSE(shown->value("lastError", "").empty()) << shown->dump();

  // An outage well past requestTimeoutMs, then the broker returns: no report
  // is waited for that cannot come, so the backlog drains at once.
  std::this_thread::sleep_for(4s);
  broker.restart();
  const auto restarted = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 30s)) << db_.pending() << " rows still pending";
  const double drained = std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted).count();
  std::printf("backlog of 2005 rows drained %.1f s after the broker returned\n", drained);
  EXPECT_LE(drained, 12.0);
  const auto d = deliveries(testenv::read_whole_topic(topic_, 20s));
  EXPECT_EQ(d.distinct, 2015u) << "rows lost";
  expect_per_key_order(d);
  const auto log = agent.log();
  EXPECT_EQ(log.find("got no delivery report"), std::string::npos);
  EXPECT_EQ(log.find("18446744073709551615"), std::string::npos);
  // Recovered: the error is cleared from the status.
  EXPECT_TRUE(eventually(
      [&] {
        const auto entry = agent_entry("orders-agent-0");
        return entry && entry->value("breaker", "") == "Closed" && !entry->contains("lastError");
      },
      15s))
      << agent_entry("orders-agent-0").value_or(json()).dump();
}

}  // namespace
}  // namespace outflow::agent_tests
