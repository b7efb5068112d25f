// No loss through chaos: a concurrent writer fills the outbox while the
// broker is SIGKILLed and restarted, agent replicas are SIGKILLed and
// replaced, and PostgreSQL restarts; then an independent read_committed
// consumer reads the topic from the beginning and the DeliveryCheck judges
// it: every committed row delivered, no rolled-back row, first deliveries in
// order for keys one connection writes, and duplicates within the bound the
// agent's design allows.
//
// Sized by the environment (defaults: the short variant in hack/test.sh):
//   OUTFLOW_CHAOS_ROWS (24000)  OUTFLOW_CHAOS_RATE rows/s (300, 0 = unpaced)
//   OUTFLOW_CHAOS_BROKER_KILLS (1)  OUTFLOW_CHAOS_AGENT_KILLS (1)
//   OUTFLOW_CHAOS_DATABASE_RESTARTS (1)  OUTFLOW_CHAOS_CONNECTIONS (4)
// hack/chaos.sh runs the full one (1,000,000 rows, 5 / 5 / 1).
// It kills the shared broker and restarts PostgreSQL: a *ChaosTest suite,
// which hack/test.sh runs alone with the outage tests.

#include "agent/agent_fixture.h"
#include "chaos/concurrent_writer.h"
#include "chaos/delivery_reader.h"
#include "chaos/faults.h"
#include "testenv.h"

#include <cstdio>
#include <cstdlib>

namespace outflow::agent_tests {
namespace {

using AgentChaosTest = AgentTest;
using Clock = std::chrono::steady_clock;

long long setting(const char* name, long long fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::stoll(value) : fallback;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

TEST_F(AgentChaosTest, EveryCommittedRowArrivesInKeyOrderThroughBrokerAgentAndDatabaseCrashes) {
  const auto rows = setting("OUTFLOW_CHAOS_ROWS", 24000);
  const auto rate = setting("OUTFLOW_CHAOS_RATE", 300);
  const auto plan = chaos::fault_plan(static_cast<int>(setting("OUTFLOW_CHAOS_BROKER_KILLS", 1)),
                                      static_cast<int>(setting("OUTFLOW_CHAOS_AGENT_KILLS", 1)),
                                      static_cast<int>(setting("OUTFLOW_CHAOS_DATABASE_RESTARTS", 1)));
  constexpr int kReplicas = 3;
  // A breaker that reopens the path soon after the broker returns; the
  // default (30 s) would only make the run longer.
  spec()["circuitBreaker"] = {{"openDurationMs", 2000}};
  const int batch_size = spec()["outbox"].value("batchSize", 500);

  std::vector<AgentProcess*> replicas;
  const auto pod = [](int replica) { return "chaos-agent-" + std::to_string(replica); };
  for (int r = 0; r < kReplicas; ++r) replicas.push_back(&start_agent(pod(r)));
  for (auto* agent : replicas) {
    ASSERT_TRUE(eventually([&] { return testenv::http_get(agent->health_port(), "/readyz").first == 200; }, 60s))
        << agent->pod() << " never became ready";
  }
  chaos::ProcessFaults faults([&](int r) { replicas[static_cast<std::size_t>(r)]->kill(); },
                              [&](int r) { replicas[static_cast<std::size_t>(r)] = &start_agent(pod(r)); });

  chaos::WriterSettings writing;
  writing.url = testenv::require("OUTFLOW_TEST_PG_URL");
  writing.schema = db_.schema();
  writing.rows = rows;
  writing.rows_per_second = static_cast<double>(rate);
  writing.connections = static_cast<int>(setting("OUTFLOW_CHAOS_CONNECTIONS", 4));
  // It writes until the last fault is behind it: a broker that takes two
  // minutes to start again must not leave the other faults to an idle outbox.
  writing.unbounded = true;
  chaos::ConcurrentWriter writer(writing);
  const auto started = Clock::now();
  writer.start();

  // Each fault once the writer is the next fraction of the way through, so
  // every one lands mid-stream.
  int agent_faults = 0;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const auto threshold = rows * static_cast<long long>(i + 1) / static_cast<long long>(plan.size() + 1);
    ASSERT_TRUE(eventually([&] { return writer.attempted() >= threshold; }, 30min, 200ms));
    const auto at = Clock::now();
    const auto at_row = writer.attempted();
    switch (plan[i]) {
      case chaos::Fault::Broker: faults.kill_broker(5s); break;
      case chaos::Fault::Agent: faults.kill_agent(agent_faults++ % kReplicas, 2s); break;
      case chaos::Fault::Database: faults.restart_database(); break;
    }
    std::printf("fault %zu/%zu at row %lld (%.1f s): %s, back after %.1f s\n", i + 1, plan.size(),
                static_cast<long long>(at_row), std::chrono::duration<double>(at - started).count(),
                chaos::name(plan[i]), seconds_since(at));
  }
  // Past the planned rows, and a last stretch after the last fault.
  const auto last_fault_at = writer.attempted();
  ASSERT_TRUE(eventually(
      [&] { return writer.attempted() >= std::max(rows, last_fault_at + rows / static_cast<long long>(plan.size() + 1)); },
      30min, 200ms));
  writer.stop();
  auto written = writer.join();
  const double write_seconds = seconds_since(started);
  db_.reconnect();

  // Drained: every committed row marked published by some replica.
  const auto drain_started = Clock::now();
  const auto drain_limit = std::chrono::milliseconds(120000 + rows / 2);
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, drain_limit, 500ms))
      << db_.pending() << " rows still pending " << drain_limit.count() << " ms after the writer finished";
  const double drain_seconds = seconds_since(drain_started);
  const auto in_table = db_.count("true");

  chaos::DeliveryCheck check(std::move(written));
  // The writer's own bookkeeping against the table: in-doubt commits settled right.
  EXPECT_EQ(static_cast<std::size_t>(in_table), check.missing()) << "rows in the table vs rows the writer committed";
  const auto read = chaos::read_everything(topic_, check, std::chrono::milliseconds(60000 + rows / 5));
  const auto v = check.verdict();
  const auto bound = chaos::duplicate_bound(batch_size, kReplicas, static_cast<int>(plan.size()));

  std::printf(
      "chaos: %lld rows attempted by %d connections in %.1f s (%lld reconnects, %lld in-doubt commits settled); "
      "%zu committed, %zu rolled back; %zu faults; drained %.1f s after the writer finished\n",
      static_cast<long long>(writer.attempted()), writing.connections, write_seconds,
      static_cast<long long>(writer.reconnects()), static_cast<long long>(writer.in_doubt()), v.committed,
      v.rolled_back, plan.size(), drain_seconds);
  std::printf(
      "chaos: read %zu messages in %.1f s: %zu delivered, %zu lost, %zu rolled-back seen, %zu order violations, "
      "%zu wrong event ids, %zu unknown, %zu duplicates (bound %zu = batch %d x %d replicas x %zu faults)\n",
      read.messages, read.seconds, v.delivered, v.lost, v.rolled_back_seen, v.order_violations, v.wrong_event_id,
      v.unknown, v.duplicates, bound, batch_size, kReplicas, plan.size());
  for (const auto& example : v.examples) std::printf("  %s\n", example.c_str());

  EXPECT_TRUE(read.complete) << "the consumer did not reach the end of every partition";
  EXPECT_EQ(v.lost, 0u) << "committed rows never reached Kafka";
  EXPECT_EQ(v.rolled_back_seen, 0u) << "rolled-back rows reached Kafka";
  EXPECT_EQ(v.order_violations, 0u) << "a key's first deliveries left outbox order";
  EXPECT_EQ(v.wrong_event_id, 0u);
  EXPECT_EQ(v.unknown, 0u);
  EXPECT_LE(v.duplicates, bound) << "more duplicates than the in-flight bound explains";
  EXPECT_GT(v.rolled_back, 0u) << "the writer rolled nothing back: the run tested less than it says";
  for (auto* agent : replicas) {
    EXPECT_TRUE(agent->running()) << agent->pod() << " died on its own";
    EXPECT_EQ(agent->log().find("order of key"), std::string::npos) << agent->pod();
  }
}

}  // namespace
}  // namespace outflow::agent_tests
