#include "operator/workloads/deployment.h"

#include "example_pipeline.h"

#include <gtest/gtest.h>

using namespace outflow::op::workloads;
using outflow::testing::defaults;
using outflow::testing::example_spec;
using outflow::testing::identity;
using nlohmann::json;

namespace {
json deployment(const std::string& file = "minimal.yaml") {
  return agent_deployment(identity(), example_spec(file), defaults(), "abc123");
}
const json& agent_container(const json& d) { return d["spec"]["template"]["spec"]["containers"][0]; }
}  // namespace

TEST(AgentDeployment, RunsNonRootWithReadOnlyRootAndNoCapabilities) {
  const auto d = deployment();
  const auto& pod = d["spec"]["template"]["spec"];
  EXPECT_EQ(pod["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
  const auto& sc = agent_container(d)["securityContext"];
  EXPECT_EQ(sc["runAsNonRoot"], true);
  EXPECT_EQ(sc["readOnlyRootFilesystem"], true);
  EXPECT_EQ(sc["allowPrivilegeEscalation"], false);
  EXPECT_EQ(sc["capabilities"]["drop"], json::array({"ALL"}));
}

TEST(AgentDeployment, ChecksumAnnotationRollsPodsWhenConfigOrSecretsChange) {
  const auto d = deployment();
  EXPECT_EQ(d["spec"]["template"]["metadata"]["annotations"][kChecksumAnnotation], "abc123");
  EXPECT_NE(checksum_of({"ab", "c"}), checksum_of({"a", "bc"}));
  EXPECT_EQ(checksum_of({"x"}), checksum_of({"x"}));
  EXPECT_EQ(checksum_of({"x"}).size(), 64u);
}

TEST(AgentDeployment, ReplicasImageAndSelectorFollowTheSpec) {
  const auto d = deployment("tls-scram.yaml");
  EXPECT_EQ(d["spec"]["replicas"], 3);
  EXPECT_EQ(agent_container(d)["image"], defaults().agent_image);
  EXPECT_EQ(agent_container(d)["resources"]["limits"]["memory"], "256Mi");
  const auto& match = d["spec"]["selector"]["matchLabels"];
  for (const auto& [k, v] : match.items()) EXPECT_EQ(d["spec"]["template"]["metadata"]["labels"][k], v) << k;

  auto spec = example_spec("minimal.yaml");
  spec.agent.image = "mirror.example/agent:pinned";
  EXPECT_EQ(agent_container(agent_deployment(identity(), spec, defaults(), ""))["image"], "mirror.example/agent:pinned");
}

TEST(AgentDeployment, WithoutResourcesInTheSpecTheAgentGetsRequestsAndAMemoryLimit) {
  const auto d = deployment("minimal.yaml");
  const auto& resources = agent_container(d)["resources"];
  EXPECT_EQ(resources, default_agent_resources());
  EXPECT_TRUE(resources["requests"].contains("cpu"));
  EXPECT_TRUE(resources["requests"].contains("memory"));
  EXPECT_TRUE(resources["limits"].contains("memory"));
  EXPECT_FALSE(resources["limits"].contains("cpu")) << "a CPU limit would throttle a draining backlog";
}

TEST(AgentDeployment, SecretsAreMountedReadOnlyFromTheirKeys) {
  const auto d = deployment("tls-scram.yaml");
  const auto& volumes = d["spec"]["template"]["spec"]["volumes"];
  bool found_sasl = false;
  for (const auto& v : volumes) {
    if (v["name"] != "secret-kafka-sasl") continue;
    found_sasl = true;
    EXPECT_EQ(v["secret"]["secretName"], "payments-kafka");
    EXPECT_EQ(v["secret"]["items"][1]["key"], "password");
  }
  EXPECT_TRUE(found_sasl);
  for (const auto& m : agent_container(d)["volumeMounts"]) {
    if (m["name"] != "tmp") {
      EXPECT_EQ(m["readOnly"], true) << m["name"];
    }
  }
}

TEST(AgentDeployment, PodKnowsItsNameAndHasProbesOnTheHealthPort) {
  const auto c = agent_container(deployment());
  EXPECT_EQ(c["env"][0]["name"], "POD_NAME");
  EXPECT_EQ(c["env"][0]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");
  EXPECT_EQ(c["env"].size(), 2u) << "POD_NAME and POD_NAMESPACE; the agent needs nothing else of its pod";
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"], "/healthz");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"], "/readyz");
  EXPECT_EQ(c["args"][0], "--config=/etc/outflow/agent.yaml");
}
