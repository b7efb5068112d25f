// The operator works with exactly the ClusterRole its Helm chart ships, no
// more: it runs here under a ServiceAccount bound to the rendered role.

#include "operator_fixture.h"

#include "common/kube/yaml_json.h"
#include "testenv.h"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <vector>

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

// Creates the chart's ClusterRole and binds it to ServiceAccount "operator"
// of `ns`, as the chart does; returns the role's name (also the binding's).
std::string bind_charts_cluster_role(kube::ApiClient& api, const std::string& ns) {
  const auto release = testenv::unique_name("rbac");
  json role;
  for (auto& doc : kube::parse_yaml_documents(render_chart(release, ns))) {
    if (doc.is_object() && doc.value("kind", "") == "ClusterRole") role = doc;
  }
  if (!role.is_object()) throw std::runtime_error("the chart renders no ClusterRole");
  const std::string role_name = role["metadata"]["name"];
  api.create(kinds::cluster_roles(), "", role);
  api.create(kinds::service_accounts(), ns,
             {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "operator"}}}});
  api.create(kinds::cluster_role_bindings(), "",
             {{"apiVersion", "rbac.authorization.k8s.io/v1"},
              {"kind", "ClusterRoleBinding"},
              {"metadata", {{"name", role_name}}},
              {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", role_name}}},
              {"subjects", {{{"kind", "ServiceAccount"}, {"name", "operator"}, {"namespace", ns}}}}});
  return role_name;
}

TEST_F(ShippedRbacTest, TheOperatorReconcilesWithOnlyTheChartsClusterRole) {
  const std::string role_name = bind_charts_cluster_role(api_, ns_);
  const std::string kubeconfig =
      testenv::write_token_kubeconfig(testenv::service_account_token(rest_, ns_, "operator"));
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

// What the API server itself says the subject may do, through a
// SubjectAccessReview: the answer RBAC gives, not our reading of the Role.
bool allowed(kube::ApiClient& api, const std::string& user, const std::string& ns, const std::string& verb,
             const std::string& group, const std::string& resource, const std::string& name,
             const std::string& subresource = "") {
  const kube::ResourceKind reviews{"authorization.k8s.io", "v1", "subjectaccessreviews", false};
  json attributes = {{"namespace", ns}, {"verb", verb}, {"group", group}, {"resource", resource}, {"name", name}};
  if (!subresource.empty()) attributes["subresource"] = subresource;
  const auto answer = api.create(reviews, "",
                                 {{"apiVersion", "authorization.k8s.io/v1"},
                                  {"kind", "SubjectAccessReview"},
                                  {"spec", {{"user", user}, {"resourceAttributes", attributes}}}});
  return answer.value("status", json::object()).value("allowed", false);
}

TEST_F(ShippedRbacTest, TheAgentMayPatchOnlyItsOwnStatusAndReadsNoSecretThroughTheApi) {
  // The agent reads its Secrets as the files the Deployment mounts; a grant
  // to read them through the API would only widen what a stolen token opens.
  // It takes no Lease either: its liveness is its pod's Ready condition, and
  // a create grant (RBAC cannot limit create by name) would let it squat on,
  // or take over, the leader-election Lease of any application of the team.
  start_operator();
  apply(pipeline("shop", json::array({{{"name", unique_topic("shop")}, {"partitions", 1}, {"replicationFactor", 1}}})));
  ASSERT_TRUE(eventually([&] { return api_.get_if_exists(kinds::role_bindings(), ns_, "shop-agent").has_value(); }, 30s));
  const auto agent = "system:serviceaccount:" + ns_ + ":shop-agent";
  EXPECT_TRUE(allowed(api_, agent, ns_, "patch", "outflow.dev", "eventpipelines", "shop", "status"));
  EXPECT_FALSE(allowed(api_, agent, ns_, "patch", "outflow.dev", "eventpipelines", "other", "status"));
  EXPECT_FALSE(allowed(api_, agent, ns_, "get", "", "secrets", "orders-db"));
  EXPECT_FALSE(allowed(api_, agent, ns_, "list", "", "secrets", ""));
  for (const char* verb : {"create", "patch", "update", "get", "delete"}) {
    EXPECT_FALSE(allowed(api_, agent, ns_, verb, "coordination.k8s.io", "leases", "shop-api-leader"))
        << "the agent may " << verb << " the Lease another application of its namespace leads with";
  }
}

// `kubectl auth can-i` as the operator's ServiceAccount under the chart's
// ClusterRole: what it may do is what the code calls, and no more. Secrets in
// particular: it watches their metadata (list, watch) and reads the data of
// the ones a pipeline names (get), and may never change one.
TEST_F(ShippedRbacTest, TheChartsClusterRoleGrantsOnlyWhatTheOperatorCalls) {
  const std::string role_name = bind_charts_cluster_role(api_, ns_);
  const std::string kubeconfig =
      testenv::write_token_kubeconfig(testenv::service_account_token(rest_, ns_, "operator"));
  const auto can_i = [&](const std::string& verb, const std::string& resource_and_subresource) {
    const auto slash = resource_and_subresource.find('/');
    std::string args = resource_and_subresource.substr(0, slash);
    if (slash != std::string::npos) args += " --subresource=" + resource_and_subresource.substr(slash + 1);
    const std::string command = testenv::require("OUTFLOW_TEST_KUBE_BIN") + "/kubectl auth can-i " + verb + " " +
                                args + " --all-namespaces --kubeconfig " + kubeconfig + " >/dev/null 2>&1";
    const int rc = std::system(command.c_str());
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) > 1) throw std::runtime_error("kubectl failed: " + command);
    return WEXITSTATUS(rc) == 0;
  };
  const std::map<std::string, std::set<std::string>> granted{
      {"eventpipelines.outflow.dev", {"list", "watch", "patch"}},
      // get: the agent Role grants it, and RBAC lets no one grant what it lacks.
      {"eventpipelines.outflow.dev/status", {"get", "patch"}},
      {"eventpipelines.outflow.dev/finalizers", {"update"}},
      {"secrets", {"get", "list", "watch"}},
      {"pods", {"list", "watch"}},
      // Compared from the watch caches, never read one by one.
      {"configmaps", {"list", "watch", "create", "patch"}},
      {"deployments.apps", {"list", "watch", "create", "patch"}},
      {"services", {"list", "watch", "create", "patch"}},
      {"serviceaccounts", {"list", "watch", "create", "patch"}},
      {"roles.rbac.authorization.k8s.io", {"list", "watch", "create", "patch"}},
      {"rolebindings.rbac.authorization.k8s.io", {"list", "watch", "create", "patch"}},
      // None in any namespace but the release's (the leader-election Role,
      // not bound here): agent liveness is the pods' Ready condition.
      {"leases.coordination.k8s.io", {}},
      {"events", {"create", "patch"}},
      {"events.events.k8s.io", {}},
      {"customresourcedefinitions.apiextensions.k8s.io", {"get"}},
  };
  const std::vector<std::string> all_verbs{"get", "list", "watch", "create", "update", "patch", "delete",
                                           "deletecollection"};
  for (const auto& [resource, verbs] : granted) {
    for (const auto& verb : all_verbs) {
      EXPECT_EQ(can_i(verb, resource), verbs.contains(verb)) << "can-i " << verb << " " << resource;
    }
  }
  // Asked about one name in one namespace, as well as "all namespaces".
  for (const auto& verb : all_verbs) {
    EXPECT_FALSE(allowed(api_, "system:serviceaccount:" + ns_ + ":operator", "team-a", verb, "coordination.k8s.io",
                         "leases", "team-a-app-leader"))
        << "the operator may " << verb << " a Lease outside its own namespace";
  }
  // kubectl cannot name a kind whose CRD is not installed (it would ask
  // about a core resource "prometheusrules.monitoring.coreos.com"), so this
  // one is asked through a SubjectAccessReview for the same account.
  const std::set<std::string> rule_verbs{"get", "create", "patch"};
  for (const auto& verb : all_verbs) {
    EXPECT_EQ(allowed(api_, "system:serviceaccount:" + ns_ + ":operator", "", verb, "monitoring.coreos.com",
                      "prometheusrules", ""),
              rule_verbs.contains(verb))
        << "may " << verb << " prometheusrules";
  }
  api_.remove(kinds::cluster_role_bindings(), "", role_name);
  api_.remove(kinds::cluster_roles(), "", role_name);
  std::remove(kubeconfig.c_str());
}

}  // namespace
}  // namespace outflow::operator_tests
