#include "operator/workloads/rbac.h"

#include "example_pipeline.h"

#include <gtest/gtest.h>

using namespace outflow::op::workloads;
using outflow::testing::example_spec;
using outflow::testing::identity;

TEST(AgentRbac, RolePatchesOnlyItsOwnPipelineStatusAndReadsOnlyItsSecrets) {
  const auto role = agent_role(identity("payments"), example_spec("tls-scram.yaml"));
  ASSERT_EQ(role["rules"].size(), 2u);
  const auto& status = role["rules"][0];
  EXPECT_EQ(status["resources"], nlohmann::json::array({"eventpipelines/status"}));
  EXPECT_EQ(status["resourceNames"], nlohmann::json::array({"payments"}));
  EXPECT_EQ(status["verbs"], nlohmann::json::array({"get", "patch"}));
  const auto& secrets = role["rules"][1];
  EXPECT_EQ(secrets["resourceNames"], nlohmann::json::array({"kafka-ca", "payments-db", "payments-kafka"}));
  EXPECT_EQ(secrets["verbs"], nlohmann::json::array({"get"}));
  for (const auto& rule : role["rules"]) {
    for (const auto& field : {"verbs", "resources", "apiGroups", "resourceNames"}) {
      for (const auto& v : rule[field]) EXPECT_NE(v, "*") << field;
    }
  }
}

TEST(AgentRbac, BindingGrantsTheRoleToTheAgentServiceAccountOnly) {
  const auto binding = agent_role_binding(identity());
  EXPECT_EQ(binding["roleRef"]["name"], "orders-agent");
  ASSERT_EQ(binding["subjects"].size(), 1u);
  EXPECT_EQ(binding["subjects"][0]["kind"], "ServiceAccount");
  EXPECT_EQ(binding["subjects"][0]["name"], agent_service_account(identity())["metadata"]["name"]);
  EXPECT_EQ(binding["subjects"][0]["namespace"], "shop");
}
