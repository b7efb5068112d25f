// Which other pipelines' topics count against a pipeline, recorded from the
// EventPipeline objects as they are cached.

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

// What the informer handler does with each cached pipeline.
void record(ClaimIndex& index, const json& object) {
  const auto key = object["metadata"].value("namespace", "") + "/" + object["metadata"].value("name", "");
  try {
    index.upsert(key, claimant_of(object, outflow::pipeline::parse_spec(object.at("spec"))));
  } catch (const outflow::pipeline::SpecError&) {
    index.upsert(key, std::nullopt);
  }
}

// An index with `pipelines` recorded.
class Indexed : public ClaimIndex {
 public:
  Indexed(std::initializer_list<json> pipelines) {
    for (const auto& p : pipelines) record(*this, p);
  }
};

using Names = std::vector<std::string>;

}  // namespace

TEST(Claims, APipelineRefNamesNamespaceAndNameWithItsAgeAndUid) {
  EXPECT_EQ(pipeline_ref(pipeline("orders", "1", "k:9092", "t")),
            (PipelineRef{"shop/orders", "2026-01-01T00:00:00Z", "1"}));
}

TEST(Claims, OnlyOtherPipelinesOnAMatchingClusterClaim) {
  const Indexed index{pipeline("self", "1", "k:9092", "a"), pipeline("same", "2", "k:9092", "a"),
                               pipeline("elsewhere", "3", "other:9092", "a")};
  const auto claims = index.claims_on({"a"}, "1", {"", {"k:9092"}}, same_cluster);
  EXPECT_EQ(topics_of(claims), Names{"a"});
  EXPECT_EQ(claims.at(0).by, (PipelineRef{"shop/same", "2026-01-02T00:00:00Z", "2"}));
}

TEST(Claims, OnlyTheTopicsAskedAboutAreAnswered) {
  const Indexed index{pipeline("one", "2", "k:9092", "a"), pipeline("two", "3", "k:9092", "b"),
                               pipeline("three", "4", "k:9092", "c")};
  EXPECT_EQ(topics_of(index.claims_on({"c", "a", "a", "unclaimed"}, "1", {"", {"k:9092"}}, same_cluster)),
            (Names{"a", "c"}));
}

// Cluster ids from the status decide over addresses: a second spelling of
// one cluster is the same cluster, one address reused by another cluster is not.
TEST(Claims, RecordedClusterIdsDecideOverBootstrapAddresses) {
  const Indexed index{pipeline("spelled", "2", "localhost:9092", "a", "id-1"),
                               pipeline("moved", "3", "k:9092", "a", "id-2")};
  const auto claims = index.claims_on({"a"}, "1", {"id-1", {"k:9092"}}, same_cluster);
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims.at(0).by.name, "shop/spelled");
}

TEST(Claims, BeforeDeletingAPipelineWhoseClusterIsUnknownClaimsToo) {
  const Indexed index{pipeline("unknown", "2", "far:9092", "a")};
  EXPECT_TRUE(index.claims_on({"a"}, "1", {"id-1", {"k:9092"}}, same_cluster).empty());
  EXPECT_EQ(topics_of(index.claims_on({"a"}, "1", {"id-1", {"k:9092"}}, may_be_same_cluster)), Names{"a"});
}

TEST(Claims, APipelineWithAnInvalidSpecClaimsNothing) {
  auto broken = pipeline("broken", "2", "k:9092", "a");
  broken["spec"].erase("outbox");
  EXPECT_TRUE(Indexed{broken}.claims_on({"a"}, "1", {"", {"k:9092"}}, same_cluster).empty());
}

// The cluster id arrives with the pipeline's first status write, after its
// spec: re-recording replaces what the pipeline claimed and where.
TEST(Claims, ARecordedAgainPipelineClaimsOnlyWhatItListsNow) {
  ClaimIndex index;
  record(index, pipeline("moving", "2", "k:9092", "a"));
  record(index, pipeline("moving", "2", "k:9092", "b", "id-2"));
  EXPECT_TRUE(index.claims_on({"a"}, "1", {"", {"k:9092"}}, same_cluster).empty());
  EXPECT_EQ(topics_of(index.claims_on({"b"}, "1", {"id-2", {"elsewhere:9092"}}, same_cluster)), Names{"b"});
  EXPECT_TRUE(index.claims_on({"b"}, "1", {"id-1", {"k:9092"}}, same_cluster).empty())
      << "its cluster id now says another cluster";
}

TEST(Claims, ARemovedPipelineClaimsNothing) {
  Indexed index{pipeline("gone", "2", "k:9092", "a"), pipeline("kept", "3", "k:9092", "a")};
  index.remove("shop/gone");
  index.remove("shop/never-there");
  const auto claims = index.claims_on({"a"}, "1", {"", {"k:9092"}}, same_cluster);
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims.at(0).by.name, "shop/kept");
}
