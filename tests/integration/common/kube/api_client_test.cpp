// The typed API client against a real kube-apiserver: what the operator and the
// agents may rely on when they read, write, apply and are refused.
//
// Every test works in a namespace of its own (and, where it needs one, a CRD in
// an API group of its own), so tests can run in parallel processes and leave
// nothing behind.

#include "api_client_fixture.h"

#include <gtest/gtest.h>

#include <thread>

using namespace outflow;
using namespace outflow::kube_tests;
using namespace std::chrono_literals;
using kube::ErrorKind;
using kube::kinds::config_maps;
using nlohmann::json;

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
