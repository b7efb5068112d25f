// Which pipeline changes wake the operator.

#include "operator/controller/pipeline_change.h"

#include <gtest/gtest.h>

using outflow::op::controller::reconcile_fingerprint;
using nlohmann::json;

namespace {

json pipeline() {
  return json::parse(R"({
    "apiVersion": "outflow.dev/v1alpha1", "kind": "EventPipeline",
    "metadata": {"name": "orders", "namespace": "shop", "generation": 3, "resourceVersion": "100",
                 "managedFields": [{"manager": "outflow-agent/orders-agent-a"}]},
    "spec": {"topics": [{"name": "shop.orders", "partitions": 3}]},
    "status": {"observedGeneration": 3,
               "conditions": [{"type": "Ready", "status": "True"}],
               "agents": [{"pod": "orders-agent-a", "breaker": "Closed", "publishedTotal": 10,
                           "outboxBacklog": 0, "heartbeatTime": "2026-11-24T01:00:00Z"}]}
  })");
}

}  // namespace

TEST(ReconcileFingerprint, AnAgentHeartbeatWithNewCountersChangesNothing) {
  auto later = pipeline();
  later["metadata"]["resourceVersion"] = "101";
  later["metadata"]["managedFields"].push_back({{"manager", "outflow-agent/orders-agent-b"}});
  later["status"]["agents"][0]["publishedTotal"] = 250;
  later["status"]["agents"][0]["outboxBacklog"] = 7;
  later["status"]["agents"][0]["heartbeatTime"] = "2026-11-24T01:00:05Z";
  EXPECT_EQ(reconcile_fingerprint(later), reconcile_fingerprint(pipeline()));
}

TEST(ReconcileFingerprint, ABreakerChangeIsSeen) {
  auto open = pipeline();
  open["status"]["agents"][0]["breaker"] = "Open";
  EXPECT_NE(reconcile_fingerprint(open), reconcile_fingerprint(pipeline()));
}

TEST(ReconcileFingerprint, ANewAgentEntryIsSeen) {
  auto more = pipeline();
  more["status"]["agents"].push_back({{"pod", "orders-agent-b"}, {"breaker", "Closed"}});
  EXPECT_NE(reconcile_fingerprint(more), reconcile_fingerprint(pipeline()));
}

TEST(ReconcileFingerprint, SpecMetadataAndTheOperatorsOwnStatusAreSeen) {
  auto spec = pipeline();
  spec["spec"]["topics"][0]["partitions"] = 6;
  EXPECT_NE(reconcile_fingerprint(spec), reconcile_fingerprint(pipeline()));
  auto deleting = pipeline();
  deleting["metadata"]["deletionTimestamp"] = "2026-11-24T01:00:00Z";
  EXPECT_NE(reconcile_fingerprint(deleting), reconcile_fingerprint(pipeline()));
  auto labelled = pipeline();
  labelled["metadata"]["labels"] = {{"team", "shop"}};
  EXPECT_NE(reconcile_fingerprint(labelled), reconcile_fingerprint(pipeline()));
  auto condition = pipeline();
  condition["status"]["conditions"][0]["status"] = "False";
  EXPECT_NE(reconcile_fingerprint(condition), reconcile_fingerprint(pipeline()));
}

TEST(ReconcileFingerprint, APipelineWithoutStatusOrAgentsHasOne) {
  auto bare = pipeline();
  bare.erase("status");
  EXPECT_NE(reconcile_fingerprint(bare), reconcile_fingerprint(pipeline()));
  EXPECT_EQ(reconcile_fingerprint(bare), reconcile_fingerprint(bare));
}
