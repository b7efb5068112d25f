// What the agent must ride out: the broker stopping and the database
// restarting mid-stream. These stop shared parts of the test environment, so
// hack/test.sh runs every *OutageTest suite alone, before the parallel rest.

#include "agent/agent_fixture.h"
#include "common/time_format.h"
#include "testenv.h"

#include <cstdio>
#include <thread>

namespace outflow::agent_tests {
namespace {

using AgentOutageTest = AgentTest;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST_F(AgentOutageTest, BrokerStoppedOpensTheBreakerAndNothingIsLostWhenItReturns) {
  spec()["kafka"]["requestTimeoutMs"] = 2000;
  spec()["circuitBreaker"] = {{"failureRateThreshold", 50}, {"minimumCalls", 5}, {"windowSize", 10},
                              {"openDurationMs", 2000}, {"halfOpenCalls", 2}};
  auto& agent = start_agent("orders-agent-0");
  db_.insert_many(200, 20);
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 30s));

  testenv::PartStopped broker("kafka");
  db_.insert_many(100, 20, 0, 200);

  // The pod's status shows Open soon after the transition itself (`since`,
  // which has whole seconds: the bound below allows for that).
  std::optional<json> open;
  std::int64_t seen_at = 0;
  ASSERT_TRUE(eventually(
      [&] {
        open = agent_entry("orders-agent-0");
        seen_at = unix_now();
        return open && open->value("breaker", "") == "Open";
      },
      30s))
      << (open ? open->dump() : "no entry");
  const auto since = parse_rfc3339(open->value("since", ""));
  ASSERT_TRUE(since.has_value()) << open->dump();
  std::printf("breaker Open reported %lld s after the transition\n", static_cast<long long>(seen_at - *since));
  EXPECT_LE(seen_at - *since, 2) << open->dump();
  EXPECT_EQ(agent.metric("outflow_breaker_state"), 1);

  // While Kafka is away the outbox only grows: rows stay pending, none marked.
  db_.insert_many(100, 20, 0, 300);
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(db_.pending(), 200);
  // The gauge follows every row; the status entry only a tenfold change
  // (100 -> 200 is not one), so the live figure is the metric.
  ASSERT_TRUE(eventually([&] { return agent.metric("outflow_outbox_backlog") == 200; }, 10s));

  broker.restart();
  const auto restarted = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 90s)) << db_.pending() << " rows still pending";
  std::printf("backlog drained %.1f s after the broker was started again\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted).count());
  ASSERT_TRUE(eventually([&] { return agent_entry("orders-agent-0")->value("breaker", "") == "Closed"; }, 10s));
  const auto d = deliveries(testenv::read_whole_topic(topic_, 20s));
  std::printf("broker outage: 400 rows, %zu distinct delivered, %zu duplicates\n", d.distinct, d.duplicates);
  EXPECT_EQ(d.distinct, 400u) << "rows lost";
  expect_per_key_order(d);
  const auto log = agent.log();
  EXPECT_NE(log.find("HalfOpen -> Closed"), std::string::npos);
}

// The broker comes back, the replica takes its buckets back, and the broker
// goes away again while the replica's first claim is still held up (a slow
// rebalance on a loaded node does that): the replica stands down a second
// time, maybe with its half-open trial unanswered, and must still publish
// everything once the broker is back for good.
TEST_F(AgentOutageTest, TheBrokerGoingAgainDuringTheFirstClaimAfterATakeBackLosesNothing) {
  spec()["kafka"]["requestTimeoutMs"] = 2000;  // stands down after 2 x 2 s
  spec()["circuitBreaker"] = {{"failureRateThreshold", 50}, {"minimumCalls", 5}, {"windowSize", 10},
                              {"openDurationMs", 1000}, {"halfOpenCalls", 1}};
  auto& agent = start_agent("orders-agent-0");
  db_.insert_many(50, 10);
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 30s));
  const auto occurrences = [&](const std::string& text) {
    const auto log = agent.log();
    std::size_t n = 0;
    for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
    return n;
  };

  auto frozen = std::make_unique<testenv::BrokerFrozen>();
  db_.insert_many(50, 10, 0, 50);
  ASSERT_TRUE(eventually([&] { return occurrences("giving up its outbox buckets") == 1; }, 30s)) << agent.log();
  // Holds the table, so the first claim after the buckets come back waits
  // until the broker is gone again and the next stand-down is due.
  auto blocker = pg::Connection::open(testenv::require("OUTFLOW_TEST_PG_URL"));
  blocker.run_script("BEGIN; LOCK TABLE " + db_.table() + " IN ACCESS EXCLUSIVE MODE");
  frozen.reset();
  ASSERT_TRUE(eventually([&] { return occurrences("taking outbox buckets back") == 1; }, 30s)) << agent.log();
  {
    testenv::PartStopped broker("kafka");
    std::this_thread::sleep_for(5s);  // past the stand-down delay (2 x requestTimeoutMs) since the take-back
    blocker.run_script("COMMIT");
    ASSERT_TRUE(eventually([&] { return occurrences("giving up its outbox buckets") == 2; }, 30s)) << agent.log();
  }
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 90s))
      << db_.pending() << " rows still pending; breaker " << agent.metric("outflow_breaker_state") << "\n"
      << agent.log();
  const auto d = deliveries(testenv::read_whole_topic(topic_, 20s));
  EXPECT_EQ(d.distinct, 100u) << "rows lost";
  expect_per_key_order(d);
}

TEST_F(AgentOutageTest, PostgresRestartedMidStreamTheAgentReconnectsWithoutLoss) {
  auto& agent = start_agent("orders-agent-0");
  db_.insert_many(3000, 50);
  ASSERT_TRUE(eventually([&] { return db_.count("published_at IS NOT NULL") > 0; }, 20s));
  {
    testenv::PartStopped database("postgres");
    ASSERT_TRUE(eventually([&] { return testenv::http_get(agent.health_port(), "/readyz").first == 503; }, 10s));
    EXPECT_NE(testenv::http_get(agent.health_port(), "/readyz").second.find("database"), std::string::npos);
    std::this_thread::sleep_for(2s);
  }
  db_.reconnect();
  db_.insert_many(1000, 50, 0, 3000);
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 60s)) << db_.pending() << " rows still pending";
  EXPECT_TRUE(eventually([&] { return testenv::http_get(agent.health_port(), "/readyz").first == 200; }, 10s));
  const auto d = deliveries(testenv::read_whole_topic(topic_, 20s));
  std::printf("database restart: 4000 rows, %zu distinct delivered, %zu duplicates\n", d.distinct, d.duplicates);
  EXPECT_EQ(d.distinct, 4000u) << "rows lost";
  expect_per_key_order(d);
}

}  // namespace
}  // namespace outflow::agent_tests
