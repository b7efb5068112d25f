// Agent liveness as the operator reads it: each agent pod renews a Lease named
// after it instead of rewriting its status.agents entry, and the operator
// counts an entry alive while its pod's Lease is fresh.

#include "operator_fixture.h"

#include "common/kube/lease_record.h"
#include "common/time_format.h"

namespace outflow::operator_tests {
namespace {

json topic(const std::string& name) { return {{"name", name}, {"partitions", 1}, {"replicationFactor", 1}}; }

// What an agent pod writes: its entry, as its own field manager.
void write_entry(kube::ApiClient& api, const std::string& ns, const std::string& pipeline, const std::string& pod,
                 std::chrono::system_clock::time_point written) {
  const json body = {{"apiVersion", "outflow.dev/v1alpha1"},
                     {"kind", "EventPipeline"},
                     {"metadata", {{"name", pipeline}, {"namespace", ns}}},
                     {"status",
                      {{"agents", json::array({{{"pod", pod},
                                                {"breaker", "Closed"},
                                                {"heartbeatTime", format_rfc3339(written)}}})}}}};
  api.server_side_apply(kube::kinds::event_pipelines(), ns, pipeline, body, "outflow-agent/" + pod, true, "status");
}

std::vector<std::string> entry_pods(const json& pipeline) {
  std::vector<std::string> pods;
  if (!pipeline.contains("status")) return pods;
  for (const auto& e : pipeline["status"].value("agents", json::array())) pods.push_back(e.value("pod", ""));
  return pods;
}

TEST_F(OperatorTest, AnAgentWhosePodRenewsItsLeaseStaysAliveWithoutRewritingItsEntry) {
  start_operator();
  apply(pipeline("alive", json::array({topic(unique_topic("alive"))})));
  const auto ready = wait_for_condition("alive", "Ready", "True");
  const std::string uid = ready["metadata"].value("uid", "");

  // Both entries were last written ten minutes ago (nothing changed since);
  // only pod a renews its Lease. Neither pod is in the operator's pod cache
  // (no kubelet here), so an entry survives only while its pod is alive.
  const auto long_ago = std::chrono::system_clock::now() - std::chrono::minutes(10);
  const json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                      {"kind", "Lease"},
                      {"metadata",
                       {{"name", "alive-agent-a"},
                        {"labels", {{"app.kubernetes.io/name", "outflow-agent"}, {"outflow.dev/pipeline-uid", uid}}}}},
                      {"spec",
                       {{"holderIdentity", "alive-agent-a"},
                        {"leaseDurationSeconds", 40},
                        {"renewTime", kube::format_micro_time(std::chrono::system_clock::now())}}}};
  api_.create(kube::kinds::leases(), ns_, lease);
  write_entry(api_, ns_, "alive", "alive-agent-a", long_ago);
  write_entry(api_, ns_, "alive", "alive-agent-b", long_ago);

  json last;
  const bool pruned = eventually(
      [&] {
        last = get("alive");
        return entry_pods(last) == std::vector<std::string>{"alive-agent-a"};
      },
      30s);
  EXPECT_TRUE(pruned) << "expected only the entry of the pod with a fresh Lease: " << last["status"].dump();
  EXPECT_EQ(last["status"]["summary"].value("breakers", ""), "1 Closed");
  EXPECT_EQ(condition(last, "BreakersClosed")->value("status", ""), "True");
}

}  // namespace
}  // namespace outflow::operator_tests
