// The outflow-agent binary as pods run it: replicas sharing one outbox, one of
// them killed mid-run, status written into the EventPipeline, clean shutdown.

#include "agent/agent_fixture.h"
#include "testenv.h"

#include <cstdio>
#include <thread>

namespace outflow::agent_tests {
namespace {

TEST_F(AgentTest, ThreeReplicasOneKilledMidRunLoseNothingAndKeepPerKeyOrder) {
  constexpr int kRows = 6000;
  constexpr int kKeys = 200;
  start_agent("orders-agent-0");
  auto* victim = &start_agent("orders-agent-1");
  start_agent("orders-agent-2");
  // Rows keep arriving while the replicas share the buckets, lose one and get it back.
  for (int chunk = 0; chunk < 6; ++chunk) {
    db_.insert_many(kRows / 6, kKeys, 64, chunk * (kRows / 6));
    if (chunk == 2) {
      ASSERT_TRUE(eventually([&] { return db_.count("published_at IS NOT NULL") > 0; }, 20s));
      victim->kill();  // SIGKILL: no drain, its session just ends
    }
    if (chunk == 4) victim = &start_agent("orders-agent-1");
    std::this_thread::sleep_for(300ms);
  }
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 60s)) << db_.pending() << " rows still pending";

  const auto got = testenv::read_topic(topic_, kRows + 2000, 15s);
  const auto d = deliveries(got);
  std::printf("3 replicas, one SIGKILLed: %d rows, %zu distinct delivered, %zu duplicates\n", kRows, d.distinct,
              d.duplicates);
  EXPECT_EQ(d.distinct, static_cast<std::size_t>(kRows)) << "rows lost";
  expect_per_key_order(d);
  EXPECT_EQ(d.first_by_key.size(), static_cast<std::size_t>(kKeys));
}

TEST_F(AgentTest, EachPodReportsItsOwnStatusEntry) {
  db_.insert_many(300, 30);
  start_agent("orders-agent-a");
  start_agent("orders-agent-b");
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 30s));
  std::int64_t published = 0;
  ASSERT_TRUE(eventually(
      [&] {
        const auto a = agent_entry("orders-agent-a");
        const auto b = agent_entry("orders-agent-b");
        if (!a || !b) return false;
        published = a->value("publishedTotal", 0) + b->value("publishedTotal", 0);
        // The backlog is counted on its own schedule (every 2 s): it reaches
        // 0 shortly after the last row went out.
        return published == 300 && a->value("breaker", "") == "Closed" && b->value("breaker", "") == "Closed" &&
               a->value("outboxBacklog", -1) == 0 && b->value("outboxBacklog", -1) == 0;
      },
      15s))
      << pipeline().value("status", json::object()).dump(2);
  const auto a = *agent_entry("orders-agent-a");
  EXPECT_TRUE(a.contains("heartbeatTime"));
  EXPECT_TRUE(a.contains("since"));
}

TEST_F(AgentTest, ReadyOnlyOnceConnectedAndMetricsCountPublishedRows) {
  auto& agent = start_agent("orders-agent-0");
  ASSERT_TRUE(eventually([&] { return testenv::http_get(agent.health_port(), "/readyz").first == 200; }, 20s))
      << testenv::http_get(agent.health_port(), "/readyz").second;
  db_.insert_many(25, 5);
  ASSERT_TRUE(eventually([&] { return agent.metric("outflow_outbox_published_total") == 25; }, 20s))
      << agent.metric("outflow_outbox_published_total");
  EXPECT_EQ(agent.metric("outflow_breaker_state"), 0);
  EXPECT_EQ(testenv::http_get(agent.health_port(), "/healthz").first, 200);
}

TEST_F(AgentTest, SigtermMidStreamExitsCleanlyAndEveryMarkedRowIsInKafka) {
  db_.insert_many(20000, 100, 256);
  auto& agent = start_agent("orders-agent-0");
  ASSERT_TRUE(eventually([&] { return db_.count("published_at IS NOT NULL") > 0; }, 20s));
  EXPECT_EQ(agent.terminate(), 0);
  const auto marked = db_.count("published_at IS NOT NULL");
  const auto got = testenv::read_topic(topic_, static_cast<std::size_t>(marked), 20s);
  const auto d = deliveries(got);
  std::printf("stopped after %lld rows marked, %zu in Kafka\n", static_cast<long long>(marked), d.distinct);
  // Every marked row is in Kafka: nothing was marked ahead of its acknowledgement.
  EXPECT_GE(static_cast<std::int64_t>(d.distinct), marked);
  expect_per_key_order(d);
  EXPECT_NE(agent.log().find("draining"), std::string::npos);
}

TEST_F(AgentTest, AMissingOutboxTableIsReportedAndRetriedNotACrash) {
  spec()["outbox"]["table"] = db_.schema() + ".no_such_table";
  auto& agent = start_agent("orders-agent-0");
  ASSERT_TRUE(eventually([&] { return agent.log().find("no_such_table") != std::string::npos; }, 20s));
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(agent.running());
  ASSERT_TRUE(eventually(
      [&] {
        const auto entry = agent_entry("orders-agent-0");
        return entry && entry->value("lastError", "").find("no_such_table") != std::string::npos;
      },
      15s));
}

TEST_F(AgentTest, DeadLettersAreRetriedThroughATierAndHopelessOnesParked) {
  const auto dlq = testenv::unique_name("dlq");
  for (const auto& t : {dlq, dlq + ".retry.1", dlq + ".retry.2", dlq + ".parked"}) testenv::create_topic(t, 1);
  spec()["deadLetter"] = {{"topic", dlq}, {"maxAttempts", 2},
                          {"backoff", {{"initialMs", 500}, {"multiplier", 2}, {"maxMs", 1000}}}};
  auto& agent = start_agent("orders-agent-0");

  // What a consumer that failed does: the message, unchanged, plus the headers of the contract.
  testenv::produce(dlq, "order-7", "payload-7",
                   {{"outflow-original-topic", topic_}, {"outflow-original-partition", "0"},
                    {"outflow-original-offset", "41"}, {"outflow-error", "timeout calling billing"}});
  testenv::produce(dlq, "order-8", "no headers at all");

  const auto retried = testenv::read_topic(topic_, 1, 30s);
  ASSERT_EQ(retried.size(), 1u) << agent.log();
  EXPECT_EQ(retried[0].key, "order-7");
  EXPECT_EQ(retried[0].value, "payload-7");
  EXPECT_EQ(retried[0].headers.at("outflow-attempt"), "2");
  EXPECT_EQ(retried[0].headers.at("outflow-error"), "timeout calling billing");

  const auto parked = testenv::read_topic(dlq + ".parked", 1, 30s);
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0].value, "no headers at all");
  EXPECT_TRUE(parked[0].headers.at("outflow-parked-reason").has_value());

  ASSERT_TRUE(eventually(
      [&] {
        const auto entry = agent_entry("orders-agent-0");
        return entry && entry->value("parkedTotal", 0) == 1 && entry->value("dlqPending", -1) == 0;
      },
      15s))
      << pipeline().value("status", json::object()).dump(2);
  EXPECT_EQ(agent.metric("outflow_dlq_received_total"), 2);
  EXPECT_EQ(agent.metric("outflow_dlq_republished_total"), 1);
  EXPECT_EQ(agent.metric("outflow_dlq_parked_total"), 1);
}

TEST_F(AgentTest, AReplayerKilledMidStreamAndRestartedLosesNoDeadLetter) {
  constexpr int kMessages = 600;
  const auto dlq = testenv::unique_name("dlq");
  for (const auto& t : {dlq, dlq + ".retry.1", dlq + ".parked"}) testenv::create_topic(t, 3);
  spec()["deadLetter"] = {{"topic", dlq}, {"maxAttempts", 1},
                          {"backoff", {{"initialMs", 300}, {"multiplier", 1}, {"maxMs", 300}}}};
  std::vector<testenv::Outgoing> dead_letters;
  for (int i = 0; i < kMessages; ++i) {
    dead_letters.push_back({"k" + std::to_string(i % 20), std::to_string(i), {{"outflow-original-topic", topic_}}});
  }
  testenv::produce(dlq, dead_letters);
  auto* agent = &start_agent("orders-agent-0");
  // Killed while messages are moving between the dead-letter topic, the tier
  // and their topic: produced but maybe not committed.
  ASSERT_TRUE(eventually([&] { return agent->metric("outflow_dlq_republished_total") > 50; }, 30s)) << agent->log();
  agent->kill();
  agent = &start_agent("orders-agent-0");
  const auto got = testenv::read_topic(topic_, kMessages * 2, 45s);
  const auto d = deliveries(got);
  std::printf("replayer SIGKILLed mid-stream: %d dead letters, %zu distinct republished, %zu duplicates\n",
              kMessages, d.distinct, d.duplicates);
  EXPECT_EQ(d.distinct, static_cast<std::size_t>(kMessages)) << "dead letters lost";
}

}  // namespace
}  // namespace outflow::agent_tests
