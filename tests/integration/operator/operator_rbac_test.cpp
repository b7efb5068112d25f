// The operator works with exactly the ClusterRole its Helm chart ships, no
// more: it runs here under a ServiceAccount bound to the rendered role.

#include "operator_fixture.h"

#include "common/kube/yaml_json.h"
#include "testenv.h"

#include <cstdio>
#include <fstream>

namespace outflow::operator_tests {
namespace {

namespace kinds = kube::kinds;

using ShippedRbacTest = OperatorTest;

std::string render_chart(const std::string& release, const std::string& ns) {
  const std::string out = "/tmp/" + testenv::unique_name("chart") + ".yaml";
  const std::string command = testenv::require("OUTFLOW_TEST_KUBE_BIN") + "/helm template " + release + " " +
                              testenv::source_path("charts/outflow") + " --namespace " + ns + " > " + out;
  if (std::system(command.c_str()) != 0) throw std::runtime_error("helm template failed: " + command);
  auto text = testenv::read_text(out);
  std::remove(out.c_str());
  return text;
}

TEST_F(ShippedRbacTest, TheOperatorReconcilesWithOnlyTheChartsClusterRole) {
  const auto release = testenv::unique_name("rbac");
  json role;
  for (auto& doc : kube::parse_yaml_documents(render_chart(release, ns_))) {
    if (doc.is_object() && doc.value("kind", "") == "ClusterRole") role = doc;
  }
  ASSERT_TRUE(role.is_object()) << "the chart renders a ClusterRole";
  const std::string role_name = role["metadata"]["name"];
  api_.create(kinds::cluster_roles(), "", role);
  api_.create(kinds::service_accounts(), ns_,
              {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "operator"}}}});
  api_.create(kinds::cluster_role_bindings(), "",
              {{"apiVersion", "rbac.authorization.k8s.io/v1"},
               {"kind", "ClusterRoleBinding"},
               {"metadata", {{"name", role_name}}},
               {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", role_name}}},
               {"subjects", {{{"kind", "ServiceAccount"}, {"name", "operator"}, {"namespace", ns_}}}}});
  // TokenRequest is a subresource: POST .../serviceaccounts/operator/token.
  const json request = {{"apiVersion", "authentication.k8s.io/v1"},
                        {"kind", "TokenRequest"},
                        {"spec", {{"expirationSeconds", 3600}}}};
  const auto answer = rest_.post("/api/v1/namespaces/" + ns_ + "/serviceaccounts/operator/token", request);
  ASSERT_TRUE(answer.ok()) << answer.text;
  const std::string sa_token = answer.body["status"]["token"];

  // A kubeconfig with that token and the test CA.
  const std::string kubeconfig = "/tmp/" + testenv::unique_name("kubeconfig");
  {
    std::ofstream out(kubeconfig);
    out << "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: "
        << testenv::require("OUTFLOW_TEST_KUBE_SERVER") << "\n    certificate-authority: "
        << testenv::require("OUTFLOW_TEST_KUBE_CA") << "\nusers:\n- name: operator\n  user:\n    token: " << sa_token
        << "\ncontexts:\n- name: test\n  context: {cluster: test, user: operator}\ncurrent-context: test\n";
  }
  operators_.push_back(std::make_unique<OperatorProcess>(
      std::vector<std::string>{"--namespaces=" + ns_, "--resync-period=3s", "--agent-image=outflow-agent:test"},
      kubeconfig));

  const auto name = unique_topic("rbac");
  auto p = pipeline("rbac", json::array({{{"name", name}, {"partitions", 1}, {"replicationFactor", 1}}}));
  p["spec"]["topicDeletionPolicy"] = "Delete";  // exercises the finalizer patch too
  apply(p);
  wait_for_condition("rbac", "Ready", "True");
  // Workload, Role and RoleBinding were created (RBAC refuses a Role that
  // grants more than its creator holds).
  EXPECT_TRUE(api_.get_if_exists(kinds::roles(), ns_, "rbac-agent"));
  EXPECT_TRUE(api_.get_if_exists(kinds::role_bindings(), ns_, "rbac-agent"));
  api_.remove(kinds::event_pipelines(), ns_, "rbac");
  EXPECT_TRUE(eventually([&] { return !api_.get_if_exists(kinds::event_pipelines(), ns_, "rbac"); }, 30s));
  const auto log = operators_.back()->log();
  EXPECT_EQ(log.find("Forbidden"), std::string::npos) << log;
  EXPECT_EQ(log.find("forbidden"), std::string::npos) << log;

  api_.remove(kinds::cluster_role_bindings(), "", role_name);
  api_.remove(kinds::cluster_roles(), "", role_name);
  std::remove(kubeconfig.c_str());
}

}  // namespace
}  // namespace outflow::operator_tests
