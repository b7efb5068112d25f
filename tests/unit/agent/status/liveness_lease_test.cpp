#include "agent/status/liveness_lease.h"

#include <gtest/gtest.h>

#include <chrono>

namespace {

using outflow::agent::liveness_lease;
using outflow::agent::LivenessSettings;
using outflow::agent::PipelineRef;
using namespace std::chrono_literals;

const PipelineRef kPipeline{"shop", "orders", "5b1c-uid"};
const auto kNow = std::chrono::system_clock::time_point{} + 1'800'000'000s + 250ms;

TEST(LivenessLease, NamedAfterThePodHeldByItAndRenewedNow) {
  const auto lease = liveness_lease(kPipeline, "orders-agent-7d9-x2k", "pod-uid", LivenessSettings{}, kNow);
  EXPECT_EQ(lease["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(lease["kind"], "Lease");
  EXPECT_EQ(lease["metadata"]["name"], "orders-agent-7d9-x2k");
  EXPECT_EQ(lease["metadata"]["namespace"], "shop");
  EXPECT_EQ(lease["spec"]["holderIdentity"], "orders-agent-7d9-x2k");
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 40);
  EXPECT_EQ(lease["spec"]["renewTime"], "2027-01-15T08:00:00.250000Z");
  // The operator finds a pipeline's Leases by these labels.
  EXPECT_EQ(lease["metadata"]["labels"]["app.kubernetes.io/name"], "outflow-agent");
  EXPECT_EQ(lease["metadata"]["labels"]["outflow.dev/pipeline-uid"], "5b1c-uid");
}

TEST(LivenessLease, OwnedByThePodSoItGoesWithIt) {
  const auto lease = liveness_lease(kPipeline, "p", "pod-uid", LivenessSettings{}, kNow);
  ASSERT_EQ(lease["metadata"]["ownerReferences"].size(), 1u);
  const auto& owner = lease["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "Pod");
  EXPECT_EQ(owner["apiVersion"], "v1");
  EXPECT_EQ(owner["name"], "p");
  EXPECT_EQ(owner["uid"], "pod-uid");
}

TEST(LivenessLease, WithoutThePodsUidThePipelineOwnsIt) {
  const auto lease = liveness_lease(kPipeline, "p", "", LivenessSettings{}, kNow);
  const auto& owner = lease["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "EventPipeline");
  EXPECT_EQ(owner["apiVersion"], "outflow.dev/v1alpha1");
  EXPECT_EQ(owner["name"], "orders");
  EXPECT_EQ(owner["uid"], "5b1c-uid");
}

}  // namespace
