#include "operator/controller/pipeline_index.h"

#include <gtest/gtest.h>

namespace outflow::op::controller {
namespace {

using Names = std::vector<std::string>;

PipelineIndex::Pipeline shop(std::string digest = "d1", Names secrets = {"orders-db", "kafka-user"}) {
  return {"team/shop", std::move(digest), std::move(secrets), "shop", "1"};
}

TEST(PipelineIndex, FindsThePipelinesThatNameASecretInTheirNamespaceOnly) {
  PipelineIndex index;
  index.upsert_pipeline(shop());
  index.upsert_pipeline({"team/billing", "d2", {"orders-db"}, "billing", "1"});
  index.upsert_pipeline({"other/shop", "d3", {"orders-db"}, "shop", "1"});
  EXPECT_EQ(index.pipelines_using_secret("team", "orders-db"), (Names{"team/billing", "team/shop"}));
  EXPECT_EQ(index.pipelines_using_secret("team", "kafka-user"), (Names{"team/shop"}));
  EXPECT_EQ(index.pipelines_using_secret("team", "unrelated"), Names{});
}

TEST(PipelineIndex, ASpecThatStopsNamingASecretNoLongerFindsIt) {
  PipelineIndex index;
  index.upsert_pipeline(shop());
  index.upsert_pipeline(shop("d2", {"orders-db"}));
  EXPECT_EQ(index.pipelines_using_secret("team", "kafka-user"), Names{});
  EXPECT_EQ(index.pipelines_using_secret("team", "orders-db"), (Names{"team/shop"}));
}

using News = PipelineIndex::News;

TEST(PipelineIndex, AnUnchangedFingerprintIsNoNews) {
  PipelineIndex index;
  EXPECT_EQ(index.upsert_pipeline(shop("d1")), News::Intent) << "a new pipeline is what a person asked for";
  EXPECT_EQ(index.upsert_pipeline(shop("d1")), News::None);
  EXPECT_NE(index.upsert_pipeline(shop("d2")), News::None);
  index.remove_pipeline("team/shop");
  EXPECT_EQ(index.upsert_pipeline(shop("d2")), News::Intent) << "a pipeline created again is news";
}

TEST(PipelineIndex, AStatusWriteIsRoutineAndANewGenerationOrADeletionIsIntent) {
  PipelineIndex index;
  auto at = [](std::string digest, std::string intent) {
    auto p = shop(std::move(digest));
    p.intent = std::move(intent);
    return p;
  };
  index.upsert_pipeline(at("d1", "1"));
  EXPECT_EQ(index.upsert_pipeline(at("d2", "1")), News::Routine) << "the operator's own status write";
  EXPECT_EQ(index.upsert_pipeline(at("d3", "2")), News::Intent) << "kubectl apply of a new spec";
  EXPECT_EQ(index.upsert_pipeline(at("d4", "2/deleting")), News::Intent) << "kubectl delete";
}

TEST(PipelineIndex, ARemovedPipelineIsFoundByNothing) {
  PipelineIndex index;
  index.upsert_pipeline(shop());
  index.remove_pipeline("team/shop");
  index.remove_pipeline("team/never-there");
  EXPECT_EQ(index.pipelines_using_secret("team", "orders-db"), Names{});
  EXPECT_EQ(index.pipelines_with_instance("team", "shop"), Names{});
}

TEST(PipelineIndex, AgentPodsAreFoundByTheirPipelinesInstanceLabel) {
  PipelineIndex index;
  index.upsert_pipeline(shop());
  index.upsert_pod("team", "shop-agent-1", "shop");
  index.upsert_pod("team", "shop-agent-2", "shop");
  index.upsert_pod("other", "shop-agent-9", "shop");
  EXPECT_EQ(index.pipelines_with_instance("team", "shop"), (Names{"team/shop"}));
  EXPECT_EQ(index.pods_with_instance("team", "shop"), (Names{"shop-agent-1", "shop-agent-2"}));

  index.remove_pod("team", "shop-agent-1");
  index.upsert_pod("team", "shop-agent-2", "billing");  // relabelled: moves
  EXPECT_EQ(index.pods_with_instance("team", "shop"), Names{});
  EXPECT_EQ(index.pods_with_instance("team", "billing"), (Names{"shop-agent-2"}));
  EXPECT_EQ(index.pods_with_instance("other", "shop"), (Names{"shop-agent-9"}));
}

}  // namespace
}  // namespace outflow::op::controller
