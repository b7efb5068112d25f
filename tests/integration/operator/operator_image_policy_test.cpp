// Creating a pipeline must not let a team run any image it likes: the operator
// deploys only the agent images its administrators allowed, and tells the team
// which setting would allow another.

#include "operator_fixture.h"

#include <iostream>

namespace outflow::operator_tests {
namespace {

namespace kinds = kube::kinds;

json topic(const std::string& name) { return {{"name", name}, {"partitions", 1}, {"replicationFactor", 1}}; }

std::string deployed_image(kube::ApiClient& api, const std::string& ns, const std::string& name) {
  const auto d = api.get_if_exists(kinds::deployments(), ns, name);
  if (!d) return "";
  return (*d)["spec"]["template"]["spec"]["containers"][0].value("image", "");
}

bool has_event(kube::ApiClient& api, const std::string& ns, const std::string& reason) {
  const json events = api.list(kinds::events(), ns);
  for (const auto& e : events["items"]) {
    if (e.value("reason", "") == reason) return true;
  }
  return false;
}

using ImagePolicyTest = OperatorTest;

TEST_F(ImagePolicyTest, AnImageNotAllowedIsRefusedUntilTheOperatorAllowsIt) {
  auto& first = start_operator();
  const std::string foreign = "registry.example/team/miner:1";
  auto p = pipeline("foreign", json::array({topic(unique_topic("foreign"))}));
  p["spec"]["agent"]["image"] = foreign;
  apply(p);

  const auto refused = wait_for_condition("foreign", "AgentsReady", "False", "AgentImageNotAllowed", 30s);
  const auto agents = condition(refused, "AgentsReady");
  ASSERT_TRUE(agents.has_value());
  const auto message = agents->value("message", "");
  EXPECT_NE(message.find(foreign), std::string::npos) << message;
  EXPECT_NE(message.find("agent.allowedImages"), std::string::npos) << message;
  // Once its topics exist, the image is what keeps the pipeline from Ready.
  wait_for_condition("foreign", "Ready", "False", "AgentImageNotAllowed", 30s);
  EXPECT_FALSE(api_.get_if_exists(kinds::deployments(), ns_, "foreign-agent").has_value())
      << "the refused image was deployed: " << deployed_image(api_, ns_, "foreign-agent");
  EXPECT_TRUE(eventually([&] { return has_event(api_, ns_, "AgentImageNotAllowed"); }, 10s));

  // A pipeline already running the operator's image keeps it when its spec
  // switches to an image that is not allowed.
  apply(pipeline("switch", json::array({topic(unique_topic("switch"))})));
  wait_for_condition("switch", "Ready", "True");
  ASSERT_EQ(deployed_image(api_, ns_, "switch-agent"), "outflow-agent:test");
  auto switched = pipeline("switch", json::array({topic(unique_topic("switch"))}));
  switched["spec"]["agent"]["image"] = foreign;
  apply(switched);
  wait_for_condition("switch", "AgentsReady", "False", "AgentImageNotAllowed", 30s);
  EXPECT_EQ(deployed_image(api_, ns_, "switch-agent"), "outflow-agent:test");

  // Allowed by prefix once the administrators say so.
  ASSERT_EQ(first.terminate(), 0) << first.log();
  start_operator({"--allowed-agent-images=outflow-agent:other,registry.example/team/*"});
  EXPECT_TRUE(eventually([&] { return deployed_image(api_, ns_, "foreign-agent") == foreign; }, 30s))
      << deployed_image(api_, ns_, "foreign-agent");
  EXPECT_TRUE(eventually([&] { return deployed_image(api_, ns_, "switch-agent") == foreign; }, 30s))
      << deployed_image(api_, ns_, "switch-agent");
  wait_for_condition("foreign", "Ready", "True");
}

}  // namespace
}  // namespace outflow::operator_tests
