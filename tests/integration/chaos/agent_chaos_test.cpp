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
// The run itself is chaos/chaos_run.h; e2e/node_chaos_test.cpp is the same
// run with agent pods force-deleted on the node. It kills the shared broker
// and restarts PostgreSQL: a *ChaosTest suite, which hack/test.sh runs alone
// with the outage tests.

#include "agent/agent_fixture.h"
#include "chaos/chaos_run.h"

namespace outflow::agent_tests {
namespace {

using AgentChaosTest = AgentTest;

TEST_F(AgentChaosTest, EveryCommittedRowArrivesInKeyOrderThroughBrokerAgentAndDatabaseCrashes) {
  constexpr int kReplicas = 3;
  // A breaker that reopens the path soon after the broker returns; the
  // default (30 s) would only make the run longer.
  spec()["circuitBreaker"] = {{"openDurationMs", 2000}};
  const auto plan = chaos::plan_from_environment(kReplicas, spec()["outbox"].value("batchSize", 500));

  std::vector<AgentProcess*> replicas;
  const auto pod = [](int replica) { return "chaos-agent-" + std::to_string(replica); };
  for (int r = 0; r < kReplicas; ++r) replicas.push_back(&start_agent(pod(r)));
  for (auto* agent : replicas) {
    ASSERT_TRUE(eventually([&] { return testenv::http_get(agent->health_port(), "/readyz").first == 200; }, 60s))
        << agent->pod() << " never became ready";
  }
  chaos::ProcessFaults faults([&](int r) { replicas[static_cast<std::size_t>(r)]->kill(); },
                              [&](int r) { replicas[static_cast<std::size_t>(r)] = &start_agent(pod(r)); });
  chaos::run_and_judge(plan, faults, db_, topic_);
  for (auto* agent : replicas) {
    EXPECT_TRUE(agent->running()) << agent->pod() << " died on its own";
    EXPECT_EQ(agent->log().find("order of key"), std::string::npos) << agent->pod();
  }
}

}  // namespace
}  // namespace outflow::agent_tests
