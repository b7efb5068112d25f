#include "common/kube/object_trim.h"

#include <gtest/gtest.h>

namespace outflow::kube {
namespace {

using nlohmann::json;

json deployment() {
  return json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {
      "name": "shop-agent", "namespace": "team", "uid": "u1", "resourceVersion": "7",
      "labels": {"app.kubernetes.io/name": "outflow-agent"},
      "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...a copy...}", "team": "a"},
      "managedFields": [{"manager": "outflow-operator", "fieldsV1": {"f:spec": {}}}],
      "ownerReferences": [{"kind": "EventPipeline", "name": "shop"}]
    },
    "spec": {"replicas": 2},
    "status": {"readyReplicas": 2}
  })");
}

TEST(WithoutBookkeeping, DropsManagedFieldsAndTheLastAppliedCopyOnly) {
  auto expected = deployment();
  expected["metadata"].erase("managedFields");
  expected["metadata"]["annotations"].erase("kubectl.kubernetes.io/last-applied-configuration");
  EXPECT_EQ(without_bookkeeping(deployment()), expected);
}

TEST(WithoutBookkeeping, DropsAnAnnotationMapLeftEmpty) {
  auto object = deployment();
  object["metadata"]["annotations"].erase("team");
  EXPECT_FALSE(without_bookkeeping(object)["metadata"].contains("annotations"));
}

TEST(WithoutBookkeeping, LeavesAnObjectWithoutMetadataAlone) {
  EXPECT_EQ(without_bookkeeping(json{{"kind", "Status"}}), (json{{"kind", "Status"}}));
}

TEST(IdentityOnly, KeepsNamesVersionsLabelsAndOwnersAndNothingElse) {
  const auto slim = identity_only(deployment());
  EXPECT_EQ(slim, json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {
      "name": "shop-agent", "namespace": "team", "uid": "u1", "resourceVersion": "7",
      "labels": {"app.kubernetes.io/name": "outflow-agent"},
      "ownerReferences": [{"kind": "EventPipeline", "name": "shop"}]
    }
  })"));
}

TEST(IdentityOnly, NeverKeepsASecretsData) {
  const json secret = {{"apiVersion", "v1"},
                       {"kind", "Secret"},
                       {"metadata", {{"name", "db"}, {"namespace", "team"}, {"resourceVersion", "3"}}},
                       {"data", {{"url", "cG9zdGdyZXM="}}},
                       {"stringData", {{"password", "x"}}}};
  const auto slim = identity_only(secret);
  EXPECT_FALSE(slim.contains("data"));
  EXPECT_FALSE(slim.contains("stringData"));
  EXPECT_EQ(slim["metadata"]["resourceVersion"], "3");
}

}  // namespace
}  // namespace outflow::kube
