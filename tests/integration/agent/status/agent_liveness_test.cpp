// Agent liveness as the operator reads it: an idle agent writes nothing (its
// entry changes only on news), and the operator counts it alive while its pod
// exists, is not being deleted and is Ready. Real agents and the real
// operator against the real API server; no kubelet runs here, so the test
// writes each pod's Ready condition through the pods/status subresource, the
// way kubelet does from the agent's readiness probe.

#include "agent/agent_fixture.h"
#include "child_process.h"
#include "common/time_format.h"
#include "testenv.h"

#include <cstdlib>
#include <iostream>

namespace outflow::agent_tests {
namespace {

namespace kinds = kube::kinds;

class AgentLivenessTest : public AgentTest {
 protected:
  AgentLivenessTest() {
    // No Deployment pods (there is no kubelet): the pods below stand in for them.
    spec()["agent"]["replicas"] = 0;
    api_.create(kinds::secrets(), ns_,
                {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "orders-db"}}},
                 {"stringData", {{"url", testenv::require("OUTFLOW_TEST_PG_URL")}}}});
  }
  ~AgentLivenessTest() override {
    if (!operator_) return;
    EXPECT_EQ(operator_->terminate(), 0) << "the operator did not stop cleanly on SIGTERM";
    if (::testing::Test::HasFailure()) {
      const auto text = operator_->log();
      std::cerr << "---- operator log (last 12000 bytes) ----\n"
                << text.substr(text.size() > 12000 ? text.size() - 12000 : 0) << "\n----\n";
    }
  }

  // OUTFLOW_OPERATOR_BIN runs another build (a baseline, to see the test fail).
  void start_operator() {
    const char* other_build = std::getenv("OUTFLOW_OPERATOR_BIN");
    operator_ = std::make_unique<testenv::ChildProcess>(std::vector<std::string>{
        other_build != nullptr && *other_build != '\0' ? other_build : OUTFLOW_OPERATOR_BIN,
        "--kubeconfig=" + testenv::require("KUBECONFIG"),
        "--metrics-addr=127.0.0.1:" + std::to_string(testenv::free_port()),
        "--health-addr=127.0.0.1:" + std::to_string(testenv::free_port()), "--log-level=debug",
        "--namespaces=" + ns_, "--resync-period=3s", "--agent-image=outflow-agent:test"});
  }

  void create_pod(const std::string& name, const json& labels) {
    api_.create(kinds::pods(), ns_,
                {{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata", {{"name", name}, {"labels", labels}}},
                 // Gated: never scheduled, so the environment's real kubelet
                 // neither runs it nor overwrites the Ready this test plays.
                 {"spec",
                  {{"schedulingGates", {{{"name", "outflow.dev/test-plays-kubelet"}}}},
                   {"containers", {{{"name", "agent"}, {"image", "outflow-agent:test"}}}}}}});
  }

  // What kubelet writes when the readiness probe starts or stops passing.
  void set_ready(const std::string& pod, bool ready) {
    api_.merge_patch(kinds::pods(), ns_, pod,
                     {{"status",
                       {{"conditions",
                         {{{"type", "Ready"},
                           {"status", ready ? "True" : "False"},
                           {"lastTransitionTime", format_rfc3339(std::chrono::system_clock::now())}}}}}}},
                     {}, "status");
  }

  std::optional<json> breakers() {
    for (const auto& c : pipeline().value("status", json::object()).value("conditions", json::array())) {
      if (c.value("type", "") == "BreakersClosed") return c;
    }
    return std::nullopt;
  }

  std::unique_ptr<testenv::ChildProcess> operator_;
};

TEST_F(AgentLivenessTest, AnIdleAgentIsStaleOnceItsPodIsNotReadyForTheBoundAndLiveWhenReadyAgain) {
  // The operator's agent pod carries the labels of the Deployment's pod
  // template; a sidecar agent's pod (the application's) only outflow.dev/pipeline.
  create_pod("orders-agent-0", {{"app.kubernetes.io/name", "outflow-agent"},
                                {"app.kubernetes.io/instance", "orders"},
                                {"outflow.dev/pipeline", "orders"}});
  create_pod("shop-sidecar-0", {{"app", "shop"}, {"outflow.dev/pipeline", "orders"}});
  set_ready("orders-agent-0", true);
  set_ready("shop-sidecar-0", true);
  auto& agent = start_agent("orders-agent-0");
  auto& sidecar = start_agent("shop-sidecar-0");
  start_operator();

  ASSERT_TRUE(eventually(
      [&] {
        const auto c = breakers();
        return agent_entry("orders-agent-0") && agent_entry("shop-sidecar-0") && c &&
               c->value("status", "") == "True" && c->value("message", "") == "2 agents publishing";
      },
      60s))
      << pipeline().value("status", json::object()).dump(2);

  // The agent process keeps running and stays idle; only its pod stops being Ready.
  const auto not_ready_at = std::chrono::steady_clock::now();
  set_ready("orders-agent-0", false);
  json last;
  const bool stale = eventually(
      [&] {
        last = breakers().value_or(json::object());
        return last.value("reason", "") == "AgentsSilent";
      },
      100s);
  const auto after = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - not_ready_at);
  ASSERT_TRUE(stale) << "the entry of an agent whose pod is not Ready stayed live: " << last.dump();
  std::printf("not Ready -> AgentsSilent after %lld s (bound 60 s)\n", static_cast<long long>(after.count()));
  EXPECT_GE(after, 55s) << "reported stale before the bound";
  EXPECT_LE(after, 75s) << "reported stale well past the bound";
  EXPECT_EQ(last.value("status", ""), "Unknown");
  const auto message = last.value("message", "");
  EXPECT_NE(message.find("orders-agent-0"), std::string::npos) << message;
  EXPECT_EQ(message.find("shop-sidecar-0"), std::string::npos) << "the sidecar's pod is Ready: " << message;
  EXPECT_TRUE(agent_entry("orders-agent-0")) << "a pod that is not Ready is not gone: its entry stays";

  set_ready("orders-agent-0", true);
  EXPECT_TRUE(eventually(
      [&] {
        last = breakers().value_or(json::object());
        return last.value("status", "") == "True";
      },
      20s))
      << "Ready again, the agent is live again: " << last.dump();
  EXPECT_TRUE(agent.running()) << agent.log();
  EXPECT_TRUE(sidecar.running()) << sidecar.log();
}

}  // namespace
}  // namespace outflow::agent_tests
