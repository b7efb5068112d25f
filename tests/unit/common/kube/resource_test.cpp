// Where requests go: the paths and query strings the API client sends.

#include "common/kube/resource.h"

#include <gtest/gtest.h>

using namespace outflow::kube;
using nlohmann::json;

namespace {
ResourceKind widgets() { return {"test.outflow.dev", "v1", "widgets", true}; }
ResourceKind cluster_widgets() { return {"test.outflow.dev", "v1", "clusterwidgets", false}; }
}  // namespace

TEST(KubeResource, ApiVersionOmitsTheEmptyCoreGroup) {
  EXPECT_EQ(kinds::config_maps().api_version(), "v1");
  EXPECT_EQ(kinds::deployments().api_version(), "apps/v1");
  EXPECT_EQ(kinds::event_pipelines().api_version(), "outflow.dev/v1alpha1");
}

TEST(KubeResource, CoreGroupLivesUnderApi) {
  EXPECT_EQ(collection_path(kinds::config_maps(), "team-a"),
            "/api/v1/namespaces/team-a/configmaps");
  EXPECT_EQ(item_path(kinds::config_maps(), "team-a", "agent"),
            "/api/v1/namespaces/team-a/configmaps/agent");
}

TEST(KubeResource, NamedGroupsLiveUnderApis) {
  EXPECT_EQ(collection_path(kinds::event_pipelines(), "shop"),
            "/apis/outflow.dev/v1alpha1/namespaces/shop/eventpipelines");
  EXPECT_EQ(item_path(kinds::leases(), "outflow-system", "outflow-operator"),
            "/apis/coordination.k8s.io/v1/namespaces/outflow-system/leases/outflow-operator");
}

TEST(KubeResource, SubresourceFollowsTheName) {
  EXPECT_EQ(item_path(kinds::event_pipelines(), "shop", "orders", "status"),
            "/apis/outflow.dev/v1alpha1/namespaces/shop/eventpipelines/orders/status");
  EXPECT_EQ(item_path(kinds::deployments(), "shop", "orders-agent", "scale"),
            "/apis/apps/v1/namespaces/shop/deployments/orders-agent/scale");
}

TEST(KubeResource, ClusterScopedKindsHaveNoNamespaceSegment) {
  EXPECT_EQ(collection_path(kinds::namespaces(), ""), "/api/v1/namespaces");
  EXPECT_EQ(item_path(kinds::namespaces(), "", "shop"), "/api/v1/namespaces/shop");
  EXPECT_EQ(item_path(kinds::custom_resource_definitions(), "", "eventpipelines.outflow.dev"),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/eventpipelines.outflow.dev");
  EXPECT_EQ(item_path(cluster_widgets(), "", "w", "status"),
            "/apis/test.outflow.dev/v1/clusterwidgets/w/status");
}

TEST(KubeResource, EmptyNamespaceOnACollectionMeansAllNamespaces) {
  EXPECT_EQ(collection_path(widgets(), ""), "/apis/test.outflow.dev/v1/widgets");
  EXPECT_EQ(collection_path(kinds::pods(), ""), "/api/v1/pods");
}

TEST(KubeResource, ANamespacedItemNeedsItsNamespace) {
  EXPECT_THROW(item_path(widgets(), "", "w"), std::invalid_argument);
}

TEST(KubeResource, AClusterScopedKindRefusesANamespace) {
  // The API server would answer 404 for a path that cannot exist; this is a
  // bug at the call site, so it fails there.
  EXPECT_THROW(collection_path(kinds::namespaces(), "shop"), std::invalid_argument);
  EXPECT_THROW(item_path(cluster_widgets(), "shop", "w"), std::invalid_argument);
}

TEST(KubeResource, AnItemNeedsAName) {
  EXPECT_THROW(item_path(widgets(), "shop", ""), std::invalid_argument);
}

TEST(KubeResource, DotSegmentsAreRefusedBecauseHttpStacksCollapseThem) {
  // "/configmaps/.." would become the namespace itself after normalisation.
  EXPECT_THROW(item_path(kinds::config_maps(), "shop", ".."), std::invalid_argument);
  EXPECT_THROW(item_path(kinds::config_maps(), "shop", "."), std::invalid_argument);
  EXPECT_THROW(collection_path(kinds::config_maps(), ".."), std::invalid_argument);
  EXPECT_EQ(item_path(kinds::config_maps(), "shop", "a..b"),
            "/api/v1/namespaces/shop/configmaps/a..b");
}

TEST(KubeResource, AKindWithoutVersionOrPluralIsRefused) {
  EXPECT_THROW(collection_path(ResourceKind{"apps", "", "deployments", true}, "x"),
               std::invalid_argument);
  EXPECT_THROW(collection_path(ResourceKind{"apps", "v1", "", true}, "x"), std::invalid_argument);
}

TEST(KubeResource, SegmentsAreEscapedSoTheyCannotChangeThePath) {
  EXPECT_EQ(item_path(kinds::config_maps(), "shop", "a/b?c#d"),
            "/api/v1/namespaces/shop/configmaps/a%2Fb%3Fc%23d");
  EXPECT_EQ(item_path(kinds::config_maps(), "sh op", "x", "st/atus"),
            "/api/v1/namespaces/sh%20op/configmaps/x/st%2Fatus");
}

TEST(KubeResource, UrlEscapeKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(url_escape("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(url_escape("app in (a,b)"), "app%20in%20%28a%2Cb%29");
  EXPECT_EQ(url_escape("a=b&c=d"), "a%3Db%26c%3Dd");
  EXPECT_EQ(url_escape("!=+%/"), "%21%3D%2B%25%2F");
  // UTF-8 is escaped byte by byte, upper-case hex.
  EXPECT_EQ(url_escape("\xC3\xA9"), "%C3%A9");
  EXPECT_EQ(url_escape(""), "");
}

TEST(KubeResource, QueryRendersInOrderAndEscapes) {
  Query q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.str(), "");
  q.add("labelSelector", "app=outflow").add("x", "").add_if("skipped", "").add_if("y", "1 2");
  EXPECT_EQ(q.str(), "?labelSelector=app%3Doutflow&x=&y=1%202");
}

TEST(KubeResource, DefaultListOptionsSendNothing) {
  EXPECT_EQ(ListOptions{}.to_query().str(), "");
}

TEST(KubeResource, ListOptionsBecomeTheApiServersParameters) {
  ListOptions o;
  o.label_selector = "app.kubernetes.io/name=outflow,tier!=db";
  o.field_selector = "metadata.name=orders";
  o.resource_version = "12345";
  o.limit = 50;
  o.continue_token = "eyJ2Ijoi+/=";
  EXPECT_EQ(o.to_query().str(),
            "?labelSelector=app.kubernetes.io%2Fname%3Doutflow%2Ctier%21%3Ddb"
            "&fieldSelector=metadata.name%3Dorders"
            "&resourceVersion=12345&limit=50&continue=eyJ2Ijoi%2B%2F%3D");
}

TEST(KubeResource, NegativeLimitIsRefused) {
  ListOptions o;
  o.limit = -1;
  EXPECT_THROW(o.to_query(), std::invalid_argument);
}

TEST(KubeResource, WriteOptionsSendOnlyWhatDiffersFromTheDefault) {
  EXPECT_EQ(WriteOptions{}.to_query().str(), "");
  WriteOptions o;
  o.field_manager = "outflow-agent/orders-agent-7d9c-x2";
  EXPECT_EQ(o.to_query().str(), "?fieldManager=outflow-agent%2Forders-agent-7d9c-x2");
  o.force = true;
  o.dry_run = true;
  EXPECT_EQ(o.to_query().str(),
            "?fieldManager=outflow-agent%2Forders-agent-7d9c-x2&force=true&dryRun=All");
}

TEST(KubeResource, PlainDeleteSendsNoBody) {
  EXPECT_TRUE(DeleteOptions{}.to_body().is_null());
  EXPECT_EQ(DeleteOptions{}.to_query().str(), "");
}

TEST(KubeResource, DeleteOptionsCarryPropagationAndPreconditions) {
  DeleteOptions o;
  o.propagation = DeleteOptions::Propagation::Foreground;
  o.precondition_uid = "0b9f-uid";
  o.precondition_resource_version = "42";
  o.grace_period_seconds = 0;
  EXPECT_EQ(o.to_body(), json::parse(R"({
    "apiVersion": "v1", "kind": "DeleteOptions",
    "propagationPolicy": "Foreground",
    "preconditions": {"uid": "0b9f-uid", "resourceVersion": "42"},
    "gracePeriodSeconds": 0})"));
}

TEST(KubeResource, EachPropagationPolicyHasItsApiName) {
  DeleteOptions o;
  o.propagation = DeleteOptions::Propagation::Background;
  EXPECT_EQ(o.to_body()["propagationPolicy"], "Background");
  o.propagation = DeleteOptions::Propagation::Orphan;
  EXPECT_EQ(o.to_body()["propagationPolicy"], "Orphan");
}

TEST(KubeResource, DeleteDryRunIsAQueryParameter) {
  DeleteOptions o;
  o.dry_run = true;
  EXPECT_EQ(o.to_query().str(), "?dryRun=All");
  EXPECT_TRUE(o.to_body().is_null());
}

TEST(KubeResource, NegativeGracePeriodIsRefused) {
  DeleteOptions o;
  o.grace_period_seconds = -5;
  EXPECT_THROW(o.to_body(), std::invalid_argument);
}
