// The chaos run of chaos/chaos_run.h with the agents as pods on the test
// environment's real node, run by the operator from its Helm chart: while
// the concurrent writer fills the outbox, agent pods are force-deleted
// (`kubectl delete pod --force --grace-period=0`: the replacement starts
// while the kubelet is still stopping the old container), the broker is
// SIGKILLed and PostgreSQL restarts. The independent consumer then finds
// every committed row, none rolled back, first deliveries in key order and
// duplicates within the in-flight bound; and no agent pod restarted on its
// own. Sized like the process variant (OUTFLOW_CHAOS_*, short by default);
// `hack/chaos.sh --pods` runs the full size. Kills the shared broker: a
// *ChaosTest suite, run alone by hack/test.sh.

#include "agent/outbox_fixture.h"
#include "chaos/chaos_run.h"
#include "child_process.h"
#include "e2e/node_fixture.h"
#include "e2e/pod_faults.h"

#include <algorithm>

namespace outflow::node_e2e {
namespace {

using namespace std::chrono_literals;
using testenv::eventually;

class NodeE2eChaosTest : public NodeE2eTest {};

TEST_F(NodeE2eChaosTest, EveryCommittedRowArrivesInKeyOrderThroughForceDeletedPodsAndBrokerAndDatabaseCrashes) {
  constexpr int kReplicas = 3;
  const auto install = helm("install");
  ASSERT_EQ(install.exit_code, 0) << install.output;
  testenv::OutboxDb db;
  const auto topic = testenv::unique_name("e2e-chaos");
  create_db_secret("orders", testenv::require("OUTFLOW_TEST_PG_POD_URL"));
  auto object = pipeline("orders", topic, db.table(), kReplicas);
  object["spec"]["topics"][0]["partitions"] = 12;
  // A breaker that reopens the path soon after the broker returns; the
  // default (30 s) would only make the run longer.
  object["spec"]["circuitBreaker"] = {{"openDurationMs", 2000}};
  apply(object);
  ASSERT_TRUE(eventually([&] { return agents_ready("orders", kReplicas); }, 180s, 500ms));

  const auto selector = "app.kubernetes.io/instance=orders,app.kubernetes.io/name=outflow-agent";
  PodFaults faults(bin_ + "/kubectl -n " + ns_, selector, kReplicas);
  const auto batch_size = kubectl_json("get evp orders")["spec"]["outbox"].value("batchSize", 500);
  chaos::run_and_judge(chaos::plan_from_environment(kReplicas, batch_size), faults, db, topic);

  // The replacements run, and no pod restarted a container on its own (a
  // crash or a failed liveness probe would show here).
  EXPECT_TRUE(eventually([&] { return agents_ready("orders", kReplicas); }, 120s, 500ms));
  for (const auto& pod : pods(selector)) {
    const auto name = pod["metadata"]["name"].get<std::string>();
    EXPECT_EQ(std::find(faults.deleted().begin(), faults.deleted().end(), name), faults.deleted().end())
        << name << " was force-deleted and is still listed";
    for (const auto& c : pod["status"].value("containerStatuses", json::array())) {
      EXPECT_EQ(c.value("restartCount", 0), 0) << name << "/" << c.value("name", "") << " restarted";
    }
    const auto logs = kubectl("logs " + name).output;
    EXPECT_EQ(logs.find("order of key"), std::string::npos) << name;
  }
  figure("agent pods force-deleted", std::to_string(faults.deleted().size()));
}

}  // namespace
}  // namespace outflow::node_e2e
