// The typed API client against a real kube-apiserver: what the operator and the
// agents may rely on when they read, write, apply and are refused.
//
// Every test works in a namespace of its own (and, where it needs one, a CRD in
// an API group of its own), so tests can run in parallel processes and leave
// nothing behind.

#include "common/kube/api_client.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace outflow;
using namespace std::chrono_literals;
using kube::ErrorKind;
using kube::kinds::config_maps;
using nlohmann::json;

namespace {

// The ApiError `action` throws, or nullopt (and a test failure) when it throws
// none. Any other exception propagates and fails the test with its message.
std::optional<kube::ApiError> api_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const kube::ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an ApiError, but the request succeeded";
  return std::nullopt;
}

// Polls `condition` until it holds or `timeout` passes. For the API server's
// eventually-consistent corners only: a new CRD being served, a new RoleBinding
// reaching the RBAC authorizer's cache.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

// Leaves out empty maps: an applied `labels: {}` makes its manager own the
// whole map (see AnAppliedEmptyMapIsOwnedWhole).
json config_map(const std::string& name, json data, json labels = json::object()) {
  json object = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}};
  if (!labels.empty()) object["metadata"]["labels"] = std::move(labels);
  if (!data.empty()) object["data"] = std::move(data);
  return object;
}

std::string resource_version(const json& object) {
  return object.at("metadata").at("resourceVersion").get<std::string>();
}

std::vector<std::string> names_of(const json& list) {
  std::vector<std::string> names;
  for (const auto& item : list.at("items")) names.push_back(item["metadata"]["name"]);
  std::sort(names.begin(), names.end());
  return names;
}

kube::ClusterEndpoint unprivileged_endpoint() {
  kube::ClusterEndpoint ep;
  ep.server = testenv::require("OUTFLOW_TEST_KUBE_SERVER");
  ep.ca_pem = testenv::require_file("OUTFLOW_TEST_KUBE_CA");
  ep.bearer_token = testenv::require("OUTFLOW_TEST_KUBE_USER_TOKEN");
  return ep;
}

// An admin client and a namespace of the test's own, deleted afterwards.
class KubeApiClient : public ::testing::Test {
 protected:
  void SetUp() override {
    rest_ = std::make_unique<kube::RestClient>(
        kube::load_kubeconfig(testenv::require("KUBECONFIG")));
    api_ = std::make_unique<kube::ApiClient>(*rest_);
    ns_ = testenv::unique_name("outflow-api");
    api_->create(kube::kinds::namespaces(), "",
                 {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_}}}});
  }

  void TearDown() override {
    if (!api_ || ns_.empty()) return;
    try {
      api_->remove(kube::kinds::namespaces(), "", ns_);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleanup: " << e.what();
    }
  }

  kube::ApiClient& api() { return *api_; }

  std::unique_ptr<kube::RestClient> rest_;
  std::unique_ptr<kube::ApiClient> api_;
  std::string ns_;
};

// A namespace plus a Widget CRD in an API group of the test's own, with a
// status subresource shaped like EventPipeline's: status.entries is a map list
// keyed by `pod` (like status.agents), status.conditions one keyed by `type`.
class KubeApiClientWidgets : public KubeApiClient {
 protected:
  void SetUp() override {
    KubeApiClient::SetUp();
    group_ = testenv::unique_name("widgets") + ".test.outflow.dev";
    widgets_ = {group_, "v1", "widgets", true};
    crd_name_ = "widgets." + group_;
    api().create(kube::kinds::custom_resource_definitions(), "", widget_crd());
    // A new CRD is not usable at once, whatever its Established condition says:
    // first its resource may be unknown (404 without a name in it), then,
    // while the resource's watch cache fills, reads are refused with 429
    // "storage is (re)initializing" (retryAfterSeconds 1). A list that
    // succeeds is the one reliable sign.
    std::string last_refusal;
    ASSERT_TRUE(eventually([&] {
      try {
        api().list(widgets_, ns_);
        return true;
      } catch (const kube::ApiError& e) {
        if (e.kind() != ErrorKind::NotFound && !e.retryable()) throw;
        last_refusal = e.what();
        return false;
      }
    })) << crd_name_ << " never got served: " << last_refusal;
  }

  void TearDown() override {
    if (!crd_name_.empty()) {
      try {
        api().remove(kube::kinds::custom_resource_definitions(), "", crd_name_);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "cleanup: " << e.what();
      }
    }
    KubeApiClient::TearDown();
  }

  json widget_crd() const {
    const json entry = {{"type", "object"},
                        {"required", {"pod"}},
                        {"properties",
                         {{"pod", {{"type", "string"}}},
                          {"breaker", {{"type", "string"}}},
                          {"backlog", {{"type", "integer"}}}}}};
    const json condition = {{"type", "object"},
                            {"required", {"type", "status"}},
                            {"properties",
                             {{"type", {{"type", "string"}}},
                              {"status", {{"type", "string"}}},
                              {"reason", {{"type", "string"}}}}}};
    const json schema = {
        {"type", "object"},
        {"properties",
         {{"spec", {{"type", "object"}, {"properties", {{"size", {{"type", "integer"}}}}}}},
          {"status",
           {{"type", "object"},
            {"properties",
             {{"entries",
               {{"type", "array"},
                {"x-kubernetes-list-type", "map"},
                {"x-kubernetes-list-map-keys", {"pod"}},
                {"items", entry}}},
              {"conditions",
               {{"type", "array"},
                {"x-kubernetes-list-type", "map"},
                {"x-kubernetes-list-map-keys", {"type"}},
                {"items", condition}}}}}}}}}};
    return {{"apiVersion", "apiextensions.k8s.io/v1"},
            {"kind", "CustomResourceDefinition"},
            {"metadata", {{"name", crd_name_}}},
            {"spec",
             {{"group", group_},
              {"scope", "Namespaced"},
              {"names",
               {{"plural", "widgets"},
                {"singular", "widget"},
                {"kind", "Widget"},
                {"listKind", "WidgetList"}}},
              {"versions",
               {{{"name", "v1"},
                 {"served", true},
                 {"storage", true},
                 {"subresources", {{"status", json::object()}}},
                 {"schema", {{"openAPIV3Schema", schema}}}}}}}}};
  }

  json widget(const std::string& name, int size) const {
    return {{"apiVersion", group_ + "/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", name}}},
            {"spec", {{"size", size}}}};
  }

  // The status an agent applies: only its own entry.
  json agent_status(const std::string& name, const std::string& pod, int backlog) const {
    return {{"apiVersion", group_ + "/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", name}}},
            {"status",
             {{"entries", {{{"pod", pod}, {"breaker", "Closed"}, {"backlog", backlog}}}}}}};
  }

  json operator_status(const std::string& name, const std::string& ready) const {
    return {{"apiVersion", group_ + "/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", name}}},
            {"status",
             {{"conditions", {{{"type", "Ready"}, {"status", ready}, {"reason", "Reconciled"}}}}}}};
  }

  static const json* entry_for(const json& object, const std::string& pod) {
    const auto status = object.find("status");
    if (status == object.end()) return nullptr;
    const auto entries = status->find("entries");
    if (entries == status->end()) return nullptr;
    for (const auto& e : *entries) {
      if (e.value("pod", "") == pod) return &e;
    }
    return nullptr;
  }

  std::string group_;
  kube::ResourceKind widgets_;
  std::string crd_name_;
};

using KubeApiClientApply = KubeApiClient;
using KubeApiClientStatus = KubeApiClientWidgets;
using KubeApiClientRbac = KubeApiClientWidgets;

}  // namespace

// ---------------------------------------------------------------------------
// Reading and writing whole objects
// ---------------------------------------------------------------------------

TEST_F(KubeApiClient, CreateThenGetReturnsTheStoredObject) {
  const auto created =
      api().create(config_maps(), ns_, config_map("agent", {{"batchSize", "500"}}));
  EXPECT_FALSE(created["metadata"]["uid"].get<std::string>().empty());

  const auto read = api().get(config_maps(), ns_, "agent");
  EXPECT_EQ(read["data"]["batchSize"], "500");
  EXPECT_EQ(read["metadata"]["uid"], created["metadata"]["uid"]);
  EXPECT_EQ(resource_version(read), resource_version(created));
}

TEST_F(KubeApiClient, ListFiltersByLabelSelector) {
  api().create(config_maps(), ns_, config_map("a", json::object(), {{"app", "outflow"}}));
  api().create(config_maps(), ns_, config_map("b", json::object(), {{"app", "other"}}));
  api().create(config_maps(), ns_,
               config_map("c", json::object(), {{"app", "outflow"}, {"tier", "agent"}}));

  kube::ListOptions outflow;
  outflow.label_selector = "app=outflow";
  EXPECT_EQ(names_of(api().list(config_maps(), ns_, outflow)),
            (std::vector<std::string>{"a", "c"}));

  // Set-based selectors need escaping: spaces, parentheses, commas, '!'.
  kube::ListOptions set_based;
  set_based.label_selector = "app in (outflow,other),!tier";
  EXPECT_EQ(names_of(api().list(config_maps(), ns_, set_based)),
            (std::vector<std::string>{"a", "b"}));

  kube::ListOptions by_name;
  by_name.field_selector = "metadata.name=b";
  EXPECT_EQ(names_of(api().list(config_maps(), ns_, by_name)), (std::vector<std::string>{"b"}));
}

TEST_F(KubeApiClient, ListFollowsContinueTokensAcrossPages) {
  for (const auto* name : {"p1", "p2", "p3"}) {
    api().create(config_maps(), ns_, config_map(name, json::object(), {{"paged", "yes"}}));
  }
  kube::ListOptions one_per_page;
  one_per_page.label_selector = "paged=yes";
  one_per_page.limit = 1;

  // A single page is one item and a token for the rest.
  const auto first = api().list_page(config_maps(), ns_, one_per_page);
  EXPECT_EQ(first["items"].size(), 1u);
  EXPECT_FALSE(first["metadata"].value("continue", "").empty());

  // list() walks all pages and returns one list, with the snapshot's
  // resourceVersion and no leftover paging metadata.
  const auto all = api().list(config_maps(), ns_, one_per_page);
  EXPECT_EQ(names_of(all), (std::vector<std::string>{"p1", "p2", "p3"}));
  EXPECT_FALSE(all["metadata"].value("resourceVersion", "").empty());
  EXPECT_FALSE(all["metadata"].contains("continue"));
  EXPECT_EQ(all["kind"], "ConfigMapList");
}

TEST_F(KubeApiClient, MergePatchChangesOnlyWhatItNamesAndNullDeletes) {
  api().create(config_maps(), ns_,
               config_map("cfg", {{"keep", "1"}, {"change", "2"}, {"drop", "3"}}));
  const auto patched = api().merge_patch(config_maps(), ns_, "cfg",
                                         {{"data", {{"change", "20"}, {"drop", nullptr}}}});
  EXPECT_EQ(patched["data"], (json{{"keep", "1"}, {"change", "20"}}));
}

TEST_F(KubeApiClient, ReplaceWithAStaleResourceVersionIsAConflict) {
  const auto original = api().create(config_maps(), ns_, config_map("cfg", {{"v", "1"}}));
  api().merge_patch(config_maps(), ns_, "cfg", {{"data", {{"v", "2"}}}});

  auto stale = original;
  stale["data"]["v"] = "3";
  const auto error = api_error_of([&] { api().replace(config_maps(), ns_, stale); });
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::Conflict);
  EXPECT_FALSE(error->retryable()) << "a stale write must re-read, not resend";
  EXPECT_NE(error->message().find("the object has been modified"), std::string::npos)
      << error->message();

  // With the current resourceVersion the same replace goes through.
  auto fresh = api().get(config_maps(), ns_, "cfg");
  fresh["data"]["v"] = "3";
  EXPECT_EQ(api().replace(config_maps(), ns_, fresh)["data"]["v"], "3");
}

TEST_F(KubeApiClient, RemovedObjectsAreNotFound) {
  api().create(config_maps(), ns_, config_map("gone", json::object()));
  api().remove(config_maps(), ns_, "gone");

  const auto error = api_error_of([&] { api().get(config_maps(), ns_, "gone"); });
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::NotFound);
  EXPECT_EQ(error->details().details_name, "gone");
  EXPECT_FALSE(api().get_if_exists(config_maps(), ns_, "gone").has_value());

  const auto again = api_error_of([&] { api().remove(config_maps(), ns_, "gone"); });
  ASSERT_TRUE(again);
  EXPECT_EQ(again->kind(), ErrorKind::NotFound);
}

TEST_F(KubeApiClient, GetIfExistsReturnsTheObjectWhenItExists) {
  api().create(config_maps(), ns_, config_map("here", {{"k", "v"}}));
  const auto found = api().get_if_exists(config_maps(), ns_, "here");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ((*found)["data"]["k"], "v");
}

TEST_F(KubeApiClient, GetIfExistsStillThrowsWhenTheResourceTypeIsUnknown) {
  // A CRD that is not installed is not "no such object": creating it would fail.
  const kube::ResourceKind uninstalled{"outflow.dev", "v1alpha1", "nosuchthings", true};
  const auto in_known_group = api_error_of([&] { api().get_if_exists(uninstalled, ns_, "x"); });
  ASSERT_TRUE(in_known_group);
  EXPECT_EQ(in_known_group->kind(), ErrorKind::NotFound);

  const kube::ResourceKind unknown_group{"nosuch.example.com", "v1", "things", true};
  const auto in_unknown_group = api_error_of([&] { api().get_if_exists(unknown_group, ns_, "x"); });
  ASSERT_TRUE(in_unknown_group);
  EXPECT_EQ(in_unknown_group->kind(), ErrorKind::NotFound);
}

TEST_F(KubeApiClient, RemoveHonoursUidAndResourceVersionPreconditions) {
  const auto created = api().create(config_maps(), ns_, config_map("pre", json::object()));

  kube::DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "00000000-0000-0000-0000-000000000000";
  auto error = api_error_of([&] { api().remove(config_maps(), ns_, "pre", wrong_uid); });
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::Conflict);

  api().merge_patch(config_maps(), ns_, "pre", {{"data", {{"k", "changed"}}}});
  kube::DeleteOptions stale_version;
  stale_version.precondition_resource_version = resource_version(created);
  error = api_error_of([&] { api().remove(config_maps(), ns_, "pre", stale_version); });
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::Conflict);
  ASSERT_TRUE(api().get_if_exists(config_maps(), ns_, "pre").has_value());

  kube::DeleteOptions exact;
  exact.precondition_uid = created["metadata"]["uid"];
  exact.propagation = kube::DeleteOptions::Propagation::Background;
  api().remove(config_maps(), ns_, "pre", exact);
  EXPECT_FALSE(api().get_if_exists(config_maps(), ns_, "pre").has_value());
}

TEST_F(KubeApiClient, CreatingTwiceIsAlreadyExists) {
  api().create(config_maps(), ns_, config_map("twice", json::object()));
  const auto error =
      api_error_of([&] { api().create(config_maps(), ns_, config_map("twice", json::object())); });
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::AlreadyExists);
  EXPECT_EQ(error->http_status(), 409);
}

TEST_F(KubeApiClient, AnInvalidObjectIsInvalidAndNamesTheField) {
  const auto error = api_error_of(
      [&] { api().create(config_maps(), ns_, config_map("Bad_Name", json::object())); });
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind(), ErrorKind::Invalid);
  EXPECT_NE(error->message().find("Bad_Name"), std::string::npos) << error->message();
  ASSERT_EQ(error->causes().size(), 1u);
  EXPECT_EQ(error->causes()[0].field, "metadata.name");
  EXPECT_EQ(error->causes()[0].reason, "FieldValueInvalid");
}

TEST_F(KubeApiClient, DryRunValidatesButPersistsNothing) {
  kube::WriteOptions dry;
  dry.dry_run = true;
  const auto answer = api().create(config_maps(), ns_, config_map("dry", {{"k", "v"}}), dry);
  EXPECT_EQ(answer["data"]["k"], "v");
  EXPECT_FALSE(api().get_if_exists(config_maps(), ns_, "dry").has_value());

  const auto invalid = api_error_of(
      [&] { api().create(config_maps(), ns_, config_map("Dry_Bad", json::object()), dry); });
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->kind(), ErrorKind::Invalid);
}

TEST_F(KubeApiClient, JsonPatchTestOperationGuardsTheEdit) {
  api().create(config_maps(), ns_, config_map("guarded", {{"owner", "pod-a"}}));
  const json remove_if_still_pod_a = json::array(
      {{{"op", "test"}, {"path", "/data/owner"}, {"value", "pod-a"}},
       {{"op", "remove"}, {"path", "/data/owner"}}});

  api().merge_patch(config_maps(), ns_, "guarded", {{"data", {{"owner", "pod-b"}}}});
  const auto refused = api_error_of(
      [&] { api().json_patch(config_maps(), ns_, "guarded", remove_if_still_pod_a); });
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind(), ErrorKind::Invalid) << refused->what();
  EXPECT_EQ(api().get(config_maps(), ns_, "guarded")["data"]["owner"], "pod-b");

  api().merge_patch(config_maps(), ns_, "guarded", {{"data", {{"owner", "pod-a"}}}});
  const auto patched = api().json_patch(config_maps(), ns_, "guarded", remove_if_still_pod_a);
  EXPECT_FALSE(patched.contains("data") && patched["data"].contains("owner"));
}

// ---------------------------------------------------------------------------
// Server-side apply
// ---------------------------------------------------------------------------

TEST_F(KubeApiClientApply, ApplyCreatesAMissingObject) {
  const auto applied = api().server_side_apply(
      config_maps(), ns_, "fresh", config_map("fresh", {{"k", "v"}}), "outflow-operator");
  EXPECT_EQ(applied["data"]["k"], "v");
  EXPECT_EQ(api().get(config_maps(), ns_, "fresh")["data"]["k"], "v");
}

TEST_F(KubeApiClientApply, TwoManagersOwnDifferentKeysWithoutClobbering) {
  api().server_side_apply(config_maps(), ns_, "shared", config_map("shared", {{"a", "1"}}),
                          "manager-a");
  const auto both = api().server_side_apply(config_maps(), ns_, "shared",
                                            config_map("shared", {{"b", "2"}}), "manager-b");
  EXPECT_EQ(both["data"], (json{{"a", "1"}, {"b", "2"}}));

  // Each manager re-applies its own key only; the other's survives.
  api().server_side_apply(config_maps(), ns_, "shared", config_map("shared", {{"a", "10"}}),
                          "manager-a");
  const auto after = api().get(config_maps(), ns_, "shared");
  EXPECT_EQ(after["data"], (json{{"a", "10"}, {"b", "2"}}));
}

TEST_F(KubeApiClientApply, AKeyAManagerStopsApplyingIsDeleted) {
  // What makes "apply the desired object" enough: fields the operator no longer
  // wants disappear without an explicit delete, as long as nobody else owns them.
  api().server_side_apply(config_maps(), ns_, "shrink",
                          config_map("shrink", {{"old", "1"}, {"kept", "2"}}), "outflow-operator");
  const auto shrunk = api().server_side_apply(config_maps(), ns_, "shrink",
                                              config_map("shrink", {{"kept", "2"}}),
                                              "outflow-operator");
  EXPECT_EQ(shrunk["data"], (json{{"kept", "2"}}));
}

TEST_F(KubeApiClientApply, ChangingAnotherManagersKeyIsAConflictUnlessForced) {
  api().server_side_apply(config_maps(), ns_, "contested", config_map("contested", {{"k", "a"}}),
                          "manager-a");

  const auto conflict = api_error_of([&] {
    api().server_side_apply(config_maps(), ns_, "contested", config_map("contested", {{"k", "b"}}),
                            "manager-b");
  });
  ASSERT_TRUE(conflict);
  EXPECT_EQ(conflict->kind(), ErrorKind::Conflict);
  ASSERT_EQ(conflict->causes().size(), 1u);
  EXPECT_EQ(conflict->causes()[0].reason, "FieldManagerConflict");
  EXPECT_EQ(conflict->causes()[0].field, ".data.k");
  EXPECT_NE(conflict->causes()[0].message.find("manager-a"), std::string::npos)
      << conflict->causes()[0].message;
  EXPECT_EQ(api().get(config_maps(), ns_, "contested")["data"]["k"], "a");

  const auto forced = api().server_side_apply(config_maps(), ns_, "contested",
                                              config_map("contested", {{"k", "b"}}), "manager-b",
                                              /*force=*/true);
  EXPECT_EQ(forced["data"]["k"], "b");

  // manager-b owns the key now: manager-a is the one that conflicts.
  const auto reverse = api_error_of([&] {
    api().server_side_apply(config_maps(), ns_, "contested", config_map("contested", {{"k", "a"}}),
                            "manager-a");
  });
  ASSERT_TRUE(reverse);
  EXPECT_EQ(reverse->kind(), ErrorKind::Conflict);
}

TEST_F(KubeApiClientApply, ApplyingTheSameValueAsAnotherManagerSharesOwnership) {
  // Agreeing is no conflict: both managers then own the key.
  api().server_side_apply(config_maps(), ns_, "agree", config_map("agree", {{"k", "same"}}),
                          "manager-a");
  const auto agreed = api().server_side_apply(
      config_maps(), ns_, "agree", config_map("agree", {{"k", "same"}}), "manager-b");
  EXPECT_EQ(agreed["data"]["k"], "same");
}

TEST_F(KubeApiClientApply, AnAppliedEmptyMapIsOwnedWhole) {
  // A trap for object builders: `labels: {}` is stored as no labels at all, yet
  // its manager owns .metadata.labels as one value, so any other manager that
  // touches labels (even only adding its own) conflicts. Builders must leave
  // empty maps out of what they apply.
  json with_empty_labels = config_map("trap", {{"a", "1"}});
  with_empty_labels["metadata"]["labels"] = json::object();
  const auto stored =
      api().server_side_apply(config_maps(), ns_, "trap", with_empty_labels, "manager-a");
  EXPECT_FALSE(stored["metadata"].contains("labels"));

  const auto conflict = api_error_of([&] {
    api().server_side_apply(config_maps(), ns_, "trap",
                            config_map("trap", json::object(), {{"team", "b"}}), "manager-b");
  });
  ASSERT_TRUE(conflict);
  EXPECT_EQ(conflict->kind(), ErrorKind::Conflict);
  ASSERT_EQ(conflict->causes().size(), 1u);
  EXPECT_EQ(conflict->causes()[0].field, ".metadata.labels");
}

TEST_F(KubeApiClientApply, ReapplyingAnUnchangedObjectWritesNothing) {
  const json desired = config_map("steady", {{"batchSize", "500"}}, {{"app", "outflow"}});
  const auto first =
      api().server_side_apply(config_maps(), ns_, "steady", desired, "outflow-operator");
  const auto second =
      api().server_side_apply(config_maps(), ns_, "steady", desired, "outflow-operator");
  const auto third =
      api().server_side_apply(config_maps(), ns_, "steady", desired, "outflow-operator");
  EXPECT_EQ(resource_version(second), resource_version(first));
  EXPECT_EQ(resource_version(third), resource_version(first));
  EXPECT_EQ(resource_version(api().get(config_maps(), ns_, "steady")), resource_version(first));

  // A real change is a write.
  const auto changed = api().server_side_apply(
      config_maps(), ns_, "steady",
      config_map("steady", {{"batchSize", "600"}}, {{"app", "outflow"}}), "outflow-operator");
  EXPECT_NE(resource_version(changed), resource_version(first));
}

TEST_F(KubeApiClientApply, AFieldManagerIsRequired) {
  EXPECT_THROW(
      api().server_side_apply(config_maps(), ns_, "x", config_map("x", json::object()), ""),
      std::invalid_argument);
}

// ---------------------------------------------------------------------------
// The status subresource, shared by the operator and every agent
// ---------------------------------------------------------------------------

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
