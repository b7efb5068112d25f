#include "operator/workloads/desired_objects.h"

#include "operator/workloads/deployment.h"

#include "example_pipeline.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace outflow::op::workloads;
using outflow::testing::defaults;
using outflow::testing::example_spec;
using outflow::testing::identity;
using nlohmann::json;

namespace {

constexpr const char* kRendered = "# rendered agent config\n{}\n";
constexpr const char* kChecksum = "abc123";

std::vector<DesiredObject> objects_for(const outflow::pipeline::PipelineSpec& spec, bool with_alert_rules) {
  return desired_objects(identity(), spec, defaults(), kRendered, kChecksum, with_alert_rules);
}

std::vector<std::string> kinds_of(const std::vector<DesiredObject>& objects) {
  std::vector<std::string> kinds;
  for (const auto& o : objects) kinds.push_back(o.object.at("kind").get<std::string>());
  return kinds;
}

const std::vector<std::string> kWorkload{"ServiceAccount", "Role",    "RoleBinding",
                                         "ConfigMap",      "Service", "Deployment"};

std::vector<std::string> workload_and_rules() {
  auto kinds = kWorkload;
  kinds.push_back("PrometheusRule");
  return kinds;
}

}  // namespace

TEST(DesiredObjects, IdentityAndPermissionsComeBeforeConfigurationAndConfigurationBeforePods) {
  const auto spec = example_spec("minimal.yaml");
  ASSERT_TRUE(spec.alerts.defaults);
  EXPECT_EQ(kinds_of(objects_for(spec, /*with_alert_rules=*/true)), workload_and_rules());
}

TEST(DesiredObjects, NoPrometheusRuleWithoutItsCrd) {
  EXPECT_EQ(kinds_of(objects_for(example_spec("dead-letter-alerts.yaml"), /*with_alert_rules=*/false)),
            kWorkload);
}

TEST(DesiredObjects, NoPrometheusRuleWhenTheSpecAsksForNone) {
  auto spec = example_spec("minimal.yaml");
  spec.alerts.defaults = false;
  spec.alerts.rules.clear();
  EXPECT_EQ(kinds_of(objects_for(spec, /*with_alert_rules=*/true)), kWorkload);
}

TEST(DesiredObjects, OwnRulesAloneStillGetAPrometheusRule) {
  auto spec = example_spec("dead-letter-alerts.yaml");
  spec.alerts.defaults = false;
  ASSERT_FALSE(spec.alerts.rules.empty());
  EXPECT_EQ(kinds_of(objects_for(spec, /*with_alert_rules=*/true)), workload_and_rules());
}

TEST(DesiredObjects, EachObjectIsTaggedWithTheResourceKindItIsAppliedAs) {
  for (const auto& o : objects_for(example_spec("dead-letter-alerts.yaml"), true)) {
    EXPECT_EQ(o.object.at("apiVersion"), o.kind.api_version()) << o.object.at("kind");
    EXPECT_TRUE(o.kind.namespaced) << o.object.at("kind");
  }
  const auto objects = objects_for(example_spec("minimal.yaml"), true);
  ASSERT_EQ(objects.size(), 7u);
  EXPECT_EQ(objects[0].kind, outflow::kube::kinds::service_accounts());
  EXPECT_EQ(objects[1].kind, outflow::kube::kinds::roles());
  EXPECT_EQ(objects[2].kind, outflow::kube::kinds::role_bindings());
  EXPECT_EQ(objects[3].kind, outflow::kube::kinds::config_maps());
  EXPECT_EQ(objects[4].kind, outflow::kube::kinds::services());
  EXPECT_EQ(objects[5].kind, outflow::kube::kinds::deployments());
  EXPECT_EQ(objects[6].kind, outflow::kube::kinds::prometheus_rules());
}

TEST(DesiredObjects, EveryObjectIsOwnedByThePipelineAndLivesInItsNamespace) {
  for (const auto& o : objects_for(example_spec("dead-letter-alerts.yaml"), true)) {
    const auto& metadata = o.object.at("metadata");
    const auto kind = o.object.at("kind").get<std::string>();
    EXPECT_EQ(metadata.at("namespace"), "shop") << kind;
    ASSERT_EQ(metadata.at("ownerReferences").size(), 1u) << kind;
    const auto& owner = metadata.at("ownerReferences")[0];
    EXPECT_EQ(owner.at("apiVersion"), "outflow.dev/v1alpha1") << kind;
    EXPECT_EQ(owner.at("kind"), "EventPipeline") << kind;
    EXPECT_EQ(owner.at("name"), identity().name) << kind;
    EXPECT_EQ(owner.at("uid"), identity().uid) << kind;
    EXPECT_EQ(owner.at("controller"), true) << kind;
  }
}

TEST(DesiredObjects, TheConfigMapCarriesTheRenderedConfigAndTheDeploymentTheChecksum) {
  const auto objects = objects_for(example_spec("minimal.yaml"), false);
  ASSERT_EQ(objects.size(), 6u);
  EXPECT_EQ(objects[3].object.at("data").at("agent.yaml"), kRendered);
  EXPECT_EQ(objects[5].object.at("spec").at("template").at("metadata").at("annotations").at(kChecksumAnnotation),
            kChecksum);
}

TEST(WantsAlertRules, WhenDefaultsAreOnOrTheSpecHasRules) {
  auto spec = example_spec("minimal.yaml");
  spec.alerts.defaults = true;
  spec.alerts.rules.clear();
  EXPECT_TRUE(wants_alert_rules(spec));
  spec.alerts.defaults = false;
  EXPECT_FALSE(wants_alert_rules(spec));
  spec.alerts.rules.push_back({"MyAlert", "up == 0", "5m", "warning", "down", "", {}});
  EXPECT_TRUE(wants_alert_rules(spec));
}
