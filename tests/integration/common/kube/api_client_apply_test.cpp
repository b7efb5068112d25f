// Server-side apply through ApiClient against the real API server: field
// managers share objects, and an unchanged re-apply writes nothing.

#include "api_client_fixture.h"

#include <gtest/gtest.h>

#include <thread>

using namespace outflow;
using namespace outflow::kube_tests;
using namespace std::chrono_literals;
using kube::ErrorKind;
using kube::kinds::config_maps;
using nlohmann::json;

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
