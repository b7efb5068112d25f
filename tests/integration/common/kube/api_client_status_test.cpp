// Agents and the operator writing one object's status side by side, and the
// resourceNames RBAC that confines an agent to its own pipeline.

#include "api_client_fixture.h"

#include <gtest/gtest.h>

#include <thread>

using namespace outflow;
using namespace outflow::kube_tests;
using namespace std::chrono_literals;
using kube::ErrorKind;
using kube::kinds::config_maps;
using nlohmann::json;

TEST_F(KubeApiClientStatus, AgentsApplyTheirOwnEntriesConcurrentlyWithoutClobbering) {
  api().create(widgets_, ns_, widget("w", 1));
  api().server_side_apply(widgets_, ns_, "w", operator_status("w", "True"), "outflow-operator",
                          false, "status");

  // Two agents report at once, many times, through one shared client (as the
  // operator's workers share one). No apply may fail and none may lose another's entry.
  constexpr int kReports = 15;
  std::vector<std::string> failures(2);
  const auto report = [&](int index, const std::string& pod) {
    try {
      for (int i = 1; i <= kReports; ++i) {
        api().server_side_apply(widgets_, ns_, "w", agent_status("w", pod, i),
                                "outflow-agent/" + pod, false, "status");
      }
    } catch (const std::exception& e) {
      failures[static_cast<std::size_t>(index)] = e.what();
    }
  };
  std::thread a(report, 0, "pod-a");
  std::thread b(report, 1, "pod-b");
  a.join();
  b.join();
  EXPECT_EQ(failures[0], "");
  EXPECT_EQ(failures[1], "");

  const auto w = api().get(widgets_, ns_, "w");
  const auto* pod_a = entry_for(w, "pod-a");
  const auto* pod_b = entry_for(w, "pod-b");
  ASSERT_NE(pod_a, nullptr) << w.dump(2);
  ASSERT_NE(pod_b, nullptr) << w.dump(2);
  EXPECT_EQ((*pod_a)["backlog"], kReports);
  EXPECT_EQ((*pod_b)["backlog"], kReports);
  ASSERT_EQ(w["status"]["conditions"].size(), 1u);
  EXPECT_EQ(w["status"]["conditions"][0]["type"], "Ready");
  EXPECT_EQ(w["status"]["conditions"][0]["status"], "True");
  EXPECT_EQ(w["spec"]["size"], 1);

  // The operator updating its condition leaves both entries alone.
  const auto after = api().server_side_apply(widgets_, ns_, "w", operator_status("w", "False"),
                                             "outflow-operator", false, "status");
  EXPECT_EQ(after["status"]["entries"].size(), 2u);
  EXPECT_EQ(after["status"]["conditions"][0]["status"], "False");
}

TEST_F(KubeApiClientStatus, EachManagerOwnsExactlyItsEntry) {
  api().create(widgets_, ns_, widget("w", 1));
  api().server_side_apply(widgets_, ns_, "w", agent_status("w", "pod-a", 1), "outflow-agent/pod-a",
                          false, "status");
  api().server_side_apply(widgets_, ns_, "w", agent_status("w", "pod-b", 1), "outflow-agent/pod-b",
                          false, "status");

  // pod-a writing pod-b's entry is a conflict: an agent cannot overwrite another.
  const auto conflict = api_error_of([&] {
    api().server_side_apply(widgets_, ns_, "w", agent_status("w", "pod-b", 99),
                            "outflow-agent/pod-a", false, "status");
  });
  ASSERT_TRUE(conflict);
  EXPECT_EQ(conflict->kind(), ErrorKind::Conflict);

  const auto w = api().get(widgets_, ns_, "w");
  std::vector<std::string> status_managers;
  for (const auto& m : w["metadata"]["managedFields"]) {
    if (m.value("subresource", "") == "status") status_managers.push_back(m["manager"]);
  }
  std::sort(status_managers.begin(), status_managers.end());
  EXPECT_EQ(status_managers,
            (std::vector<std::string>{"outflow-agent/pod-a", "outflow-agent/pod-b"}));
}

TEST_F(KubeApiClientStatus, OperatorPrunesAGoneAgentsEntryWithAGuardedJsonPatch) {
  api().create(widgets_, ns_, widget("w", 1));
  for (const auto* pod : {"pod-a", "pod-b"}) {
    api().server_side_apply(widgets_, ns_, "w", agent_status("w", pod, 1),
                            std::string("outflow-agent/") + pod, false, "status");
  }
  const auto before = api().get(widgets_, ns_, "w");
  const auto& entries = before.at("status").at("entries");
  std::size_t index = 0;
  while (index < entries.size() && entries[index]["pod"] != "pod-b") ++index;
  ASSERT_LT(index, entries.size()) << before.dump(2);
  const std::string at = "/status/entries/" + std::to_string(index);

  // Remove pod-b's entry only if it still is at that index: a concurrent
  // agent apply may have reordered the list.
  api().json_patch(widgets_, ns_, "w",
                   json::array({{{"op", "test"}, {"path", at + "/pod"}, {"value", "pod-b"}},
                                {{"op", "remove"}, {"path", at}}}),
                   {}, "status");

  // pod-a's next report does not bring pod-b back.
  const auto after = api().server_side_apply(widgets_, ns_, "w", agent_status("w", "pod-a", 2),
                                             "outflow-agent/pod-a", false, "status");
  EXPECT_EQ(entry_for(after, "pod-b"), nullptr) << after.dump(2);
  ASSERT_NE(entry_for(after, "pod-a"), nullptr);
  EXPECT_EQ((*entry_for(after, "pod-a"))["backlog"], 2);
}

TEST_F(KubeApiClientStatus, StatusAndSpecAreWrittenThroughDifferentEndpoints) {
  api().server_side_apply(widgets_, ns_, "w", widget("w", 1), "mixed");

  // With a status subresource, status sent to the main resource is dropped
  // silently (no error), and spec sent to /status likewise.
  json both = agent_status("w", "pod-a", 7);
  both["spec"] = {{"size", 2}};
  const auto via_main = api().server_side_apply(widgets_, ns_, "w", both, "mixed");
  EXPECT_EQ(via_main["spec"]["size"], 2);
  EXPECT_FALSE(via_main.contains("status") && via_main["status"].contains("entries"));

  both["spec"] = {{"size", 3}};
  const auto via_status =
      api().server_side_apply(widgets_, ns_, "w", both, "mixed-status", false, "status");
  EXPECT_EQ(via_status["spec"]["size"], 2);
  ASSERT_NE(entry_for(via_status, "pod-a"), nullptr);
}

TEST_F(KubeApiClientStatus, StatusApplyToAMissingObjectIsNotFound) {
  // An agent whose pipeline was deleted must not resurrect it.
  const auto error = api_error_of([&] {
    api().server_side_apply(widgets_, ns_, "missing", agent_status("missing", "pod-a", 1),
                            "outflow-agent/pod-a", false, "status");
  });
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::NotFound);
  EXPECT_FALSE(api().get_if_exists(widgets_, ns_, "missing").has_value());
}

// ---------------------------------------------------------------------------
// RBAC: the agent's identity may patch its own pipeline's status and nothing else
// ---------------------------------------------------------------------------

TEST_F(KubeApiClientRbac, AnIdentityWithoutRolesIsForbidden) {
  api().create(widgets_, ns_, widget("w", 1));
  kube::RestClient user_rest(unprivileged_endpoint());
  kube::ApiClient user(user_rest);

  for (const auto& attempt : std::vector<std::function<void()>>{
           [&] { user.get(widgets_, ns_, "w"); },
           [&] { user.list(config_maps(), ns_); },
           [&] {
             user.server_side_apply(widgets_, ns_, "w", agent_status("w", "pod-a", 1),
                                    "outflow-agent/pod-a", false, "status");
           },
       }) {
    const auto error = api_error_of(attempt);
    ASSERT_TRUE(error);
    EXPECT_EQ(error->kind(), ErrorKind::Forbidden) << error->what();
    EXPECT_FALSE(error->retryable());
    EXPECT_NE(error->message().find(testenv::require("OUTFLOW_TEST_KUBE_USER")), std::string::npos)
        << error->message();
  }
}

TEST_F(KubeApiClientRbac, AResourceNamesGrantCoversOnlyThatObjectsStatus) {
  api().create(widgets_, ns_, widget("mine", 1));
  api().create(widgets_, ns_, widget("theirs", 1));

  // The Role the operator gives each agent: patch on its own pipeline's status.
  const std::string user_name = testenv::require("OUTFLOW_TEST_KUBE_USER");
  api().create(kube::kinds::roles(), ns_,
               {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                {"kind", "Role"},
                {"metadata", {{"name", "agent-status"}}},
                {"rules",
                 {{{"apiGroups", {group_}},
                   {"resources", {"widgets/status"}},
                   {"resourceNames", {"mine"}},
                   {"verbs", {"patch"}}}}}});
  api().create(kube::kinds::role_bindings(), ns_,
               {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                {"kind", "RoleBinding"},
                {"metadata", {{"name", "agent-status"}}},
                {"roleRef",
                 {{"apiGroup", "rbac.authorization.k8s.io"},
                  {"kind", "Role"},
                  {"name", "agent-status"}}},
                {"subjects",
                 {{{"apiGroup", "rbac.authorization.k8s.io"},
                   {"kind", "User"},
                   {"name", user_name}}}}});

  kube::RestClient user_rest(unprivileged_endpoint());
  kube::ApiClient user(user_rest);

  // The RBAC authorizer reads roles from an informer cache: a new binding takes
  // effect a moment after it is stored, so the first attempts may be refused.
  std::string last_refusal;
  ASSERT_TRUE(eventually([&] {
    try {
      user.server_side_apply(widgets_, ns_, "mine", agent_status("mine", "pod-a", 1),
                             "outflow-agent/pod-a", false, "status");
      return true;
    } catch (const kube::ApiError& e) {
      if (e.kind() != ErrorKind::Forbidden) throw;
      last_refusal = e.what();
      return false;
    }
  }, 10s)) << last_refusal;
  ASSERT_NE(entry_for(api().get(widgets_, ns_, "mine"), "pod-a"), nullptr);

  const std::vector<std::pair<std::string, std::function<void()>>> refused = {
      {"another widget's status",
       [&] {
         user.server_side_apply(widgets_, ns_, "theirs", agent_status("theirs", "pod-a", 1),
                                "outflow-agent/pod-a", false, "status");
       }},
      {"its own widget's spec",
       [&] {
         user.server_side_apply(widgets_, ns_, "mine", widget("mine", 5), "outflow-agent/pod-a");
       }},
      {"a merge patch of its own widget", [&] {
         user.merge_patch(widgets_, ns_, "mine", {{"spec", {{"size", 5}}}});
       }},
      {"reading its own widget", [&] { user.get(widgets_, ns_, "mine"); }},
      {"deleting its own widget", [&] { user.remove(widgets_, ns_, "mine"); }},
  };
  for (const auto& [what, attempt] : refused) {
    const auto error = api_error_of(attempt);
    ASSERT_TRUE(error) << what;
    EXPECT_EQ(error->kind(), ErrorKind::Forbidden) << what << ": " << error->what();
  }
  EXPECT_EQ(entry_for(api().get(widgets_, ns_, "theirs"), "pod-a"), nullptr);
  EXPECT_EQ(api().get(widgets_, ns_, "mine")["spec"]["size"], 1);
}
