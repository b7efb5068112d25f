#include "operator/workloads/rbac.h"

#include "example_pipeline.h"

#include <gtest/gtest.h>

using namespace outflow::op::workloads;
using outflow::testing::example_spec;
using outflow::testing::identity;

TEST(AgentRbac, RolePatchesOnlyItsOwnPipelineStatusAndNothingElse) {
  // No Secrets (mounted as files) and no Leases (liveness is the pod's Ready
  // condition): the status of its own pipeline is the one rule.
  const auto role = agent_role(identity("payments"));
  ASSERT_EQ(role["rules"].size(), 1u);
  const auto& status = role["rules"][0];
  EXPECT_EQ(status["apiGroups"], nlohmann::json::array({"outflow.dev"}));
  EXPECT_EQ(status["resources"], nlohmann::json::array({"eventpipelines/status"}));
  EXPECT_EQ(status["resourceNames"], nlohmann::json::array({"payments"}));
  EXPECT_EQ(status["verbs"], nlohmann::json::array({"get", "patch"}));
}

TEST(AgentRbac, BindingGrantsTheRoleToTheAgentServiceAccountOnly) {
  const auto binding = agent_role_binding(identity());
  EXPECT_EQ(binding["roleRef"]["name"], "orders-agent");
  ASSERT_EQ(binding["subjects"].size(), 1u);
  EXPECT_EQ(binding["subjects"][0]["kind"], "ServiceAccount");
  EXPECT_EQ(binding["subjects"][0]["name"], agent_service_account(identity())["metadata"]["name"]);
  EXPECT_EQ(binding["subjects"][0]["namespace"], "shop");
}
