#include "operator/topics/desired_topics.h"

#include "unit/operator/topics/builders.h"

#include <gtest/gtest.h>

using namespace outflow::op::topics;
using namespace outflow::op::topics::testing;
using outflow::pipeline::DeadLetterSpec;
using outflow::pipeline::PipelineSpec;
using outflow::pipeline::TopicSpec;

namespace {

PipelineSpec with_topics(std::vector<TopicSpec> topics) {
  PipelineSpec spec;
  spec.topics = std::move(topics);
  return spec;
}

DeadLetterSpec dead_letter(std::string name, int max_attempts) {
  DeadLetterSpec d;
  d.topic = std::move(name);
  d.max_attempts = max_attempts;
  return d;
}

}  // namespace

TEST(TopicDesired, WithoutDeadLetterTheSpecTopicsAreAllThereIsInSpecOrder) {
  const auto spec = with_topics({topic("shop.orders", 12, 3, {{"retention.ms", "1000"}}),
                                 topic("shop.audit", 1, 1)});
  EXPECT_EQ(desired_topics(spec), spec.topics);
}

TEST(TopicDesired, DeadLetterAddsItsTopicThenOneRetryTierPerAttemptThenParked) {
  auto spec = with_topics({topic("shop.orders")});
  spec.dead_letter = dead_letter("shop.orders.dlq", 3);

  std::vector<std::string> names;
  for (const auto& t : desired_topics(spec)) names.push_back(t.name);

  EXPECT_EQ(names, (std::vector<std::string>{"shop.orders", "shop.orders.dlq",
                                             "shop.orders.dlq.retry.1", "shop.orders.dlq.retry.2",
                                             "shop.orders.dlq.retry.3", "shop.orders.dlq.parked"}));
}

TEST(TopicDesired, DerivedTopicsTakeDeadLetterPartitionsReplicationAndConfig) {
  auto spec = with_topics({topic("shop.orders", 12, 3, {{"retention.ms", "1000"}})});
  spec.dead_letter = dead_letter("shop.orders.dlq", 1);
  spec.dead_letter->partitions = 2;
  spec.dead_letter->replication_factor = 3;
  spec.dead_letter->config = {{"retention.ms", "2592000000"}};

  const auto all = desired_topics(spec);

  ASSERT_EQ(all.size(), 4u);
  for (size_t i = 1; i < all.size(); ++i) {
    SCOPED_TRACE(all[i].name);
    EXPECT_EQ(all[i].partitions, 2);
    EXPECT_EQ(all[i].replication_factor, 3);
    EXPECT_EQ(all[i].config, (Config{{"retention.ms", "2592000000"}}));
  }
}

TEST(TopicDesired, RetryTierAndParkedNamesAppendASuffixToTheDeadLetterTopic) {
  EXPECT_EQ(retry_tier_topic("a.dlq", 1), "a.dlq.retry.1");
  EXPECT_EQ(retry_tier_topic("a.dlq", 50), "a.dlq.retry.50");
  EXPECT_EQ(parked_topic("a.dlq"), "a.dlq.parked");
}
