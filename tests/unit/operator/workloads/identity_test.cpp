#include "operator/workloads/identity.h"

#include "example_pipeline.h"

#include <gtest/gtest.h>

using namespace outflow::op::workloads;
using outflow::testing::identity;

TEST(WorkloadIdentity, ShortPipelineNamesGetAReadableAgentName) {
  EXPECT_EQ(agent_name(identity("orders")), "orders-agent");
}

TEST(WorkloadIdentity, LongNamesFitADnsLabelAndStayDistinct) {
  const std::string prefix(70, 'a');
  const auto a = agent_name(identity(prefix + "-one"));
  const auto b = agent_name(identity(prefix + "-two"));
  EXPECT_LE(a.size(), 63u);
  EXPECT_LE(b.size(), 63u);
  EXPECT_NE(a, b);
  EXPECT_NE(a.back(), '-');
  EXPECT_EQ(label_value(prefix).size(), 63u);
}

TEST(WorkloadIdentity, EveryObjectIsControlledByItsPipeline) {
  const auto meta = object_metadata(identity(), "orders-agent");
  EXPECT_EQ(meta["namespace"], "shop");
  ASSERT_EQ(meta["ownerReferences"].size(), 1u);
  const auto& owner = meta["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "EventPipeline");
  EXPECT_EQ(owner["apiVersion"], "outflow.dev/v1alpha1");
  EXPECT_EQ(owner["uid"], identity().uid);
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(meta["labels"]["app.kubernetes.io/managed-by"], "outflow-operator");
}

TEST(WorkloadIdentity, SelectorLabelsAreASubsetOfCommonLabels) {
  const auto selector = selector_labels(identity());
  const auto common = common_labels(identity());
  for (const auto& [k, v] : selector.items()) EXPECT_EQ(common[k], v) << k;
}
