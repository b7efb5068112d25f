#include "chaos/chaos_run.h"

#include "chaos/concurrent_writer.h"
#include "chaos/delivery_reader.h"
#include "child_process.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace outflow::chaos {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

long long setting(const char* name, long long fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::stoll(value) : fallback;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

RunPlan plan_from_environment(int replicas, int batch_size) {
  RunPlan plan;
  plan.rows = setting("OUTFLOW_CHAOS_ROWS", plan.rows);
  plan.rows_per_second = setting("OUTFLOW_CHAOS_RATE", plan.rows_per_second);
  plan.connections = static_cast<int>(setting("OUTFLOW_CHAOS_CONNECTIONS", plan.connections));
  plan.faults = fault_plan(static_cast<int>(setting("OUTFLOW_CHAOS_BROKER_KILLS", 1)),
                           static_cast<int>(setting("OUTFLOW_CHAOS_AGENT_KILLS", 1)),
                           static_cast<int>(setting("OUTFLOW_CHAOS_DATABASE_RESTARTS", 1)));
  plan.replicas = replicas;
  plan.batch_size = batch_size;
  return plan;
}

void run_and_judge(const RunPlan& plan, FaultInjector& faults, testenv::OutboxDb& db, const std::string& topic) {
  WriterSettings writing;
  writing.url = testenv::require("OUTFLOW_TEST_PG_URL");
  writing.schema = db.schema();
  writing.rows = plan.rows;
  writing.rows_per_second = static_cast<double>(plan.rows_per_second);
  writing.connections = plan.connections;
  // It writes until the last fault is behind it: a broker that takes two
  // minutes to start again must not leave the other faults to an idle outbox.
  writing.unbounded = true;
  ConcurrentWriter writer(writing);
  const auto started = Clock::now();
  writer.start();

  // Each fault once the writer is the next fraction of the way through, so
  // every one lands mid-stream.
  const auto fractions = static_cast<long long>(plan.faults.size() + 1);
  int agent_faults = 0;
  for (std::size_t i = 0; i < plan.faults.size(); ++i) {
    const auto threshold = plan.rows * static_cast<long long>(i + 1) / fractions;
    ASSERT_TRUE(testenv::eventually([&] { return writer.attempted() >= threshold; }, 30min, 200ms));
    const auto at = Clock::now();
    const auto at_row = writer.attempted();
    switch (plan.faults[i]) {
      case Fault::Broker: faults.kill_broker(5s); break;
      case Fault::Agent: faults.kill_agent(agent_faults++ % plan.replicas, plan.agent_down); break;
      case Fault::Database: faults.restart_database(); break;
    }
    std::printf("fault %zu/%zu at row %lld (%.1f s): %s, back after %.1f s\n", i + 1, plan.faults.size(),
                static_cast<long long>(at_row), std::chrono::duration<double>(at - started).count(),
                faults.describe(plan.faults[i]).c_str(), seconds_since(at));
  }
  // Past the planned rows, and a last stretch after the last fault.
  const auto last_fault_at = writer.attempted();
  ASSERT_TRUE(testenv::eventually(
      [&] { return writer.attempted() >= std::max(plan.rows, last_fault_at + plan.rows / fractions); }, 30min, 200ms));
  writer.stop();
  auto written = writer.join();
  const double write_seconds = seconds_since(started);
  db.reconnect();

  // Drained: every committed row marked published by some replica.
  const auto drain_started = Clock::now();
  const auto drain_limit = std::chrono::milliseconds(120000 + plan.rows / 2);
  ASSERT_TRUE(testenv::eventually([&] { return db.pending() == 0; }, drain_limit, 500ms))
      << db.pending() << " rows still pending " << drain_limit.count() << " ms after the writer finished";
  const double drain_seconds = seconds_since(drain_started);
  const auto in_table = db.count("true");

  DeliveryCheck check(std::move(written));
  // The writer's own bookkeeping against the table: in-doubt commits settled right.
  EXPECT_EQ(static_cast<std::size_t>(in_table), check.missing()) << "rows in the table vs rows the writer committed";
  const auto read = read_everything(topic, check, std::chrono::milliseconds(60000 + plan.rows / 5));
  const auto v = check.verdict();
  const auto bound = duplicate_bound(plan.batch_size, plan.replicas, static_cast<int>(plan.faults.size()));

  std::printf(
      "chaos: %lld rows attempted by %d connections in %.1f s (%lld reconnects, %lld in-doubt commits settled); "
      "%zu committed, %zu rolled back; %zu faults; drained %.1f s after the writer finished\n",
      static_cast<long long>(writer.attempted()), plan.connections, write_seconds,
      static_cast<long long>(writer.reconnects()), static_cast<long long>(writer.in_doubt()), v.committed,
      v.rolled_back, plan.faults.size(), drain_seconds);
  std::printf(
      "chaos: read %zu messages in %.1f s: %zu delivered, %zu lost, %zu rolled-back seen, %zu order violations, "
      "%zu wrong event ids, %zu unknown, %zu duplicates (bound %zu = batch %d x %zu unmarked batches x %d replicas x %zu faults)\n",
      read.messages, read.seconds, v.delivered, v.lost, v.rolled_back_seen, v.order_violations, v.wrong_event_id,
      v.unknown, v.duplicates, bound, plan.batch_size, duplicate_bound(1, 1, 1), plan.replicas, plan.faults.size());
  for (const auto& example : v.examples) std::printf("  %s\n", example.c_str());

  EXPECT_TRUE(read.complete) << "the consumer did not reach the end of every partition";
  EXPECT_EQ(v.lost, 0u) << "committed rows never reached Kafka";
  EXPECT_EQ(v.rolled_back_seen, 0u) << "rolled-back rows reached Kafka";
  EXPECT_EQ(v.order_violations, 0u) << "a key's first deliveries left outbox order";
  EXPECT_EQ(v.wrong_event_id, 0u);
  EXPECT_EQ(v.unknown, 0u);
  EXPECT_LE(v.duplicates, bound) << "more duplicates than the in-flight bound explains";
  EXPECT_GT(v.rolled_back, 0u) << "the writer rolled nothing back: the run tested less than it says";
}

}  // namespace outflow::chaos
