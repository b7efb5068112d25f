// When two pipelines count as one Kafka cluster: for conflicts, and for
// deleting topics.

#include "operator/topics/cluster_identity.h"

#include <gtest/gtest.h>

using namespace outflow::op::topics;

namespace {

ClusterIdentity at(std::string id, std::vector<std::string> servers) { return {std::move(id), std::move(servers)}; }

}  // namespace

TEST(SameCluster, TwoSpellingsOfOneClusterAreOneCluster) {
  EXPECT_TRUE(same_cluster(at("abc", {"kafka-0.kafka:9093"}), at("abc", {"kafka.kafka.svc:9093"})));
}

TEST(SameCluster, KnownIdsDecideEvenWhenTheAddressIsShared) {
  // One DNS name moved to a new cluster: the ids tell the two apart.
  EXPECT_FALSE(same_cluster(at("old", {"kafka:9092"}), at("new", {"kafka:9092"})));
}

TEST(SameCluster, AnUnknownIdFallsBackToASharedAddress) {
  EXPECT_TRUE(same_cluster(at("", {"kafka:9092", "b:9092"}), at("abc", {"b:9092"})));
  EXPECT_FALSE(same_cluster(at("", {"kafka:9092"}), at("abc", {"other:9092"})));
  EXPECT_FALSE(same_cluster(at("", {"kafka:9092"}), at("", {"other:9092"})));
}

TEST(MayBeSameCluster, DifferentOnlyWhenBothIdsAreKnownAndDiffer) {
  EXPECT_FALSE(may_be_same_cluster(at("a", {"kafka:9092"}), at("b", {"kafka:9092"})));
  EXPECT_TRUE(may_be_same_cluster(at("a", {"x:1"}), at("a", {"y:1"})));
}

TEST(MayBeSameCluster, AnUnknownIdCountsAsTheSameClusterWhateverTheAddress) {
  EXPECT_TRUE(may_be_same_cluster(at("a", {"x:1"}), at("", {"elsewhere:1"})));
  EXPECT_TRUE(may_be_same_cluster(at("", {"x:1"}), at("b", {"elsewhere:1"})));
}
