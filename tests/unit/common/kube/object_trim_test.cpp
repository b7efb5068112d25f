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

TEST(IdentityAndReadiness, KeepsDeletionAndTheReadyConditionOfAPodOnly) {
  const auto pod = json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {
      "name": "shop-agent-1", "namespace": "team", "uid": "u2", "resourceVersion": "9",
      "labels": {"outflow.dev/pipeline": "shop"},
      "deletionTimestamp": "2027-01-15T08:00:30Z", "deletionGracePeriodSeconds": 30,
      "managedFields": [{"manager": "kubelet"}], "annotations": {"a": "b"}
    },
    "spec": {"containers": [{"name": "agent", "env": [{"name": "DATABASE_URL", "value": "secret"}]}]},
    "status": {
      "phase": "Running", "podIP": "10.0.0.1",
      "conditions": [
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2027-01-15T07:00:00Z"},
        {"type": "Ready", "status": "False", "reason": "ContainersNotReady", "message": "long text",
         "lastProbeTime": null, "lastTransitionTime": "2027-01-15T07:59:00Z"}
      ],
      "containerStatuses": [{"name": "agent", "restartCount": 3}]
    }
  })");
  EXPECT_EQ(identity_and_readiness(pod), json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {
      "name": "shop-agent-1", "namespace": "team", "uid": "u2", "resourceVersion": "9",
      "labels": {"outflow.dev/pipeline": "shop"},
      "deletionTimestamp": "2027-01-15T08:00:30Z", "deletionGracePeriodSeconds": 30
    },
    "status": {"conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": "2027-01-15T07:59:00Z"}]}
  })"));
}

TEST(IdentityAndReadiness, APodWithoutConditionsKeepsItsIdentityOnly) {
  const json pod = {{"kind", "Pod"}, {"metadata", {{"name", "p"}}}, {"status", {{"phase", "Pending"}}}};
  EXPECT_EQ(identity_and_readiness(pod), identity_only(pod));
}

}  // namespace
}  // namespace outflow::kube
