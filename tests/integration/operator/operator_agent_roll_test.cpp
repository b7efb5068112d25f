// Issue 13 point 7: the agents roll only when something they use changes.
// The pod template carries a checksum of the rendered AgentConfig (and the
// Secrets); a partition increase or a new replica count must leave both as
// they are, while a setting the agent reads rolls the pods.

#include "operator_fixture.h"

#include "operator/workloads/agent_config.h"
#include "operator/workloads/deployment.h"

namespace outflow::operator_tests {
namespace {

namespace kinds = kube::kinds;

using AgentRollTest = OperatorTest;

struct Rollout {
  std::string checksum;
  std::string config;
  int replicas = -1;
};

Rollout rollout(kube::ApiClient& api, const std::string& ns, const std::string& name) {
  const auto d = api.get(kinds::deployments(), ns, name + "-agent");
  const auto cm = api.get(kinds::config_maps(), ns, name + "-agent");
  return {d["spec"]["template"]["metadata"]["annotations"].value(op::workloads::kChecksumAnnotation, ""),
          cm["data"].value(op::workloads::kConfigFile, ""), d["spec"].value("replicas", -1)};
}

TEST_F(AgentRollTest, APartitionIncreaseOrNewReplicaCountRollsNoAgentButABreakerChangeDoes) {
  start_operator();
  const auto name = unique_topic("roll7");
  auto p = pipeline("roll7", json::array({{{"name", name}, {"partitions", 1}, {"replicationFactor", 1}}}));
  apply(p);
  wait_for_condition("roll7", "Ready", "True");
  const auto before = rollout(api_, ns_, "roll7");
  ASSERT_FALSE(before.checksum.empty());
  EXPECT_NE(before.config.find("kind\": \"AgentConfig"), std::string::npos) << before.config;

  p["spec"]["topics"][0]["partitions"] = 3;
  p["spec"]["topics"][0]["config"] = {{"retention.ms", "3600000"}};
  p["spec"]["agent"]["replicas"] = 2;
  apply(p);
  // Applied: the broker has 3 partitions and the Deployment 2 replicas.
  wait_for_condition("roll7", "TopicsReady", "True");
  ASSERT_TRUE(eventually([&] { return rollout(api_, ns_, "roll7").replicas == 2; }, 20s));
  EXPECT_EQ(describe({name}).at(name).partitions, 3);
  const auto after = rollout(api_, ns_, "roll7");
  EXPECT_EQ(after.config, before.config) << "the agent uses none of these fields";
  EXPECT_EQ(after.checksum, before.checksum) << "the pods must not roll";

  // Something the agent reads: the pods roll.
  p["spec"]["circuitBreaker"] = {{"openDurationMs", 12345}};
  apply(p);
  EXPECT_TRUE(eventually([&] { return rollout(api_, ns_, "roll7").checksum != before.checksum; }, 20s));
  EXPECT_NE(rollout(api_, ns_, "roll7").config.find("12345"), std::string::npos);
}

}  // namespace
}  // namespace outflow::operator_tests
