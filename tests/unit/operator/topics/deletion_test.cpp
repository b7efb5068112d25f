// Which topics topicDeletionPolicy: Delete removes with the pipeline.

#include "operator/topics/deletion.h"

#include "unit/operator/topics/builders.h"

#include <gtest/gtest.h>

using namespace outflow::op::topics;
using namespace outflow::op::topics::testing;

namespace {

const PipelineRef kOlder = older_pipeline();
const PipelineRef kYounger = younger_pipeline();

}  // namespace

TEST(TopicDeletion, ManagedTopicsAreDeletedInDesiredOrder) {
  const auto d = deletion_plan({topic("b"), topic("a")}, {"a", "b"}, self(), {});
  EXPECT_EQ(d.remove, (std::vector<std::string>{"b", "a"}));
  EXPECT_TRUE(d.retained.empty());
}

// `created` holds only topics with origin Created: one the pipeline adopted
// (it existed before, with its data) is not in it and stays.
TEST(TopicDeletion, TopicsThisPipelineDidNotCreateAreKept) {
  const auto d = deletion_plan({topic("mine"), topic("theirs")}, {"mine"}, self(), {});
  EXPECT_EQ(d.remove, (std::vector<std::string>{"mine"}));
  ASSERT_EQ(d.retained.size(), 1u);
  EXPECT_EQ(d.retained[0].topic, "theirs");
  EXPECT_EQ(d.retained[0].reason, "NotCreatedByPipeline");
  EXPECT_TRUE(contains(d.retained[0].message, "theirs"));
}

TEST(TopicDeletion, TopicsAnOlderPipelineOwnsAreKept) {
  const auto d = deletion_plan({topic("shared")}, {"shared"}, self(), {{"shared", kOlder}});
  EXPECT_TRUE(d.remove.empty());
  ASSERT_EQ(d.retained.size(), 1u);
  EXPECT_EQ(d.retained[0].reason, "ClaimedByOtherPipeline");
  EXPECT_TRUE(contains(d.retained[0].message, "billing/invoices"));
}

// The younger pipeline takes the topic over, with its data, once we are gone.
TEST(TopicDeletion, TopicsAYoungerPipelineStillClaimsAreKept) {
  const auto d = deletion_plan({topic("shared")}, {"shared"}, self(), {{"shared", kYounger}});
  EXPECT_TRUE(d.remove.empty());
  EXPECT_EQ(d.retained[0].reason, "ClaimedByOtherPipeline");
}

TEST(TopicDeletion, ThisPipelinesOwnClaimsDoNotKeepItsTopics) {
  const auto d = deletion_plan({topic("mine")}, {"mine"}, self(), {{"mine", self()}});
  EXPECT_EQ(d.remove, (std::vector<std::string>{"mine"}));
}
