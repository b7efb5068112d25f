// Which other pipelines' topics count against a pipeline, read from the
// EventPipeline objects as cached.

#include "operator/topics/claims.h"

#include <gtest/gtest.h>

using namespace outflow::op::topics;
using nlohmann::json;

namespace {

json pipeline(const std::string& name, const std::string& uid, const std::string& bootstrap,
              const std::string& topic, const std::string& cluster_id = "") {
  json object = {{"metadata",
                  {{"namespace", "shop"}, {"name", name}, {"uid", uid}, {"creationTimestamp", "2026-01-0" + uid + "T00:00:00Z"}}},
                 {"spec",
                  {{"kafka", {{"bootstrapServers", {bootstrap}}}},
                   {"topics", {{{"name", topic}, {"partitions", 1}, {"replicationFactor", 1}}}},
                   {"outbox", {{"databaseSecretRef", {{"name", "db"}}}, {"defaultTopic", topic}}}}}};
  if (!cluster_id.empty()) object["status"] = {{"kafkaClusterId", cluster_id}};
  return object;
}

std::vector<std::string> topics_of(const std::vector<Claim>& claims) {
  std::vector<std::string> out;
  for (const auto& c : claims) out.push_back(c.topic);
  return out;
}

}  // namespace

TEST(Claims, APipelineRefNamesNamespaceAndNameWithItsAgeAndUid) {
  EXPECT_EQ(pipeline_ref(pipeline("orders", "1", "k:9092", "t")),
            (PipelineRef{"shop/orders", "2026-01-01T00:00:00Z", "1"}));
}

TEST(Claims, OnlyOtherPipelinesOnAMatchingClusterClaim) {
  const std::vector<json> all{pipeline("self", "1", "k:9092", "mine"), pipeline("same", "2", "k:9092", "a"),
                              pipeline("elsewhere", "3", "other:9092", "b")};
  const auto claims = claims_of_others(all, "1", {"", {"k:9092"}}, same_cluster);
  EXPECT_EQ(topics_of(claims), (std::vector<std::string>{"a"}));
  EXPECT_EQ(claims.at(0).by.name, "shop/same");
}

// Cluster ids from the status decide over addresses: a second spelling of
// one cluster is the same cluster, one address reused by another cluster is not.
TEST(Claims, RecordedClusterIdsDecideOverBootstrapAddresses) {
  const std::vector<json> all{pipeline("spelled", "2", "localhost:9092", "a", "id-1"),
                              pipeline("moved", "3", "k:9092", "b", "id-2")};
  const auto claims = claims_of_others(all, "1", {"id-1", {"k:9092"}}, same_cluster);
  EXPECT_EQ(topics_of(claims), (std::vector<std::string>{"a"}));
}

TEST(Claims, BeforeDeletingAPipelineWhoseClusterIsUnknownClaimsToo) {
  const std::vector<json> all{pipeline("unknown", "2", "far:9092", "a")};
  EXPECT_TRUE(claims_of_others(all, "1", {"id-1", {"k:9092"}}, same_cluster).empty());
  EXPECT_EQ(topics_of(claims_of_others(all, "1", {"id-1", {"k:9092"}}, may_be_same_cluster)),
            (std::vector<std::string>{"a"}));
}

TEST(Claims, APipelineWithAnInvalidSpecClaimsNothing) {
  auto broken = pipeline("broken", "2", "k:9092", "a");
  broken["spec"].erase("outbox");
  EXPECT_TRUE(claims_of_others({broken}, "1", {"", {"k:9092"}}, same_cluster).empty());
}
