#include "operator/topics/ownership.h"

#include "unit/operator/topics/builders.h"

#include <gtest/gtest.h>

using namespace outflow::op::topics;
using namespace outflow::op::topics::testing;

TEST(TopicOwnership, TheOlderPipelineTakesPrecedence) {
  const auto older = pipeline_ref("a/one", "2024-05-01T12:00:00Z", "zzz");
  const auto younger = pipeline_ref("b/two", "2024-05-01T12:00:01Z", "aaa");
  EXPECT_TRUE(takes_precedence(older, younger));
  EXPECT_FALSE(takes_precedence(younger, older));
}

TEST(TopicOwnership, PipelinesCreatedInTheSameSecondAreOrderedByUid) {
  const auto small_uid = pipeline_ref("b/two", "2024-05-01T12:00:00Z", "0a1b");
  const auto large_uid = pipeline_ref("a/one", "2024-05-01T12:00:00Z", "f9e8");
  EXPECT_TRUE(takes_precedence(small_uid, large_uid));
  EXPECT_FALSE(takes_precedence(large_uid, small_uid));
}

TEST(TopicOwnership, TimestampsCompareAcrossDateFieldsNotJustSeconds) {
  // Fixed-width RFC 3339 in UTC: string order is time order.
  EXPECT_TRUE(takes_precedence(pipeline_ref("a/x", "2023-12-31T23:59:59Z", "b"),
                               pipeline_ref("a/y", "2024-01-01T00:00:00Z", "a")));
}

TEST(TopicOwnership, APipelineClaimsEveryDesiredTopicIncludingTheDeadLetterLadder) {
  outflow::pipeline::PipelineSpec spec;
  spec.topics = {topic("shop.orders")};
  spec.dead_letter.emplace();
  spec.dead_letter->topic = "shop.orders.dlq";
  spec.dead_letter->max_attempts = 1;
  const auto owner = pipeline_ref("shop/orders", "2024-05-01T12:00:00Z", "u1");

  EXPECT_EQ(claims_of(owner, spec),
            (std::vector<Claim>{{"shop.orders", owner},
                                {"shop.orders.dlq", owner},
                                {"shop.orders.dlq.retry.1", owner},
                                {"shop.orders.dlq.parked", owner}}));
}
