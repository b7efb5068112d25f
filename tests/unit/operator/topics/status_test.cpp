// Rolling per-topic states up into the TopicsReady condition and the Topics
// printer column.

#include "operator/topics/status.h"

#include "operator/topics/plan.h"
#include "unit/operator/topics/builders.h"

#include <gtest/gtest.h>

using namespace outflow::op::topics;
using namespace outflow::op::topics::testing;

namespace {

TopicStatus entry(std::string name, TopicState state, std::string reason = "",
                  std::string message = "") {
  TopicStatus st;
  st.name = std::move(name);
  st.state = state;
  st.reason = std::move(reason);
  st.message = std::move(message);
  return st;
}

}  // namespace

TEST(TopicStatusRollUp, EveryTopicReadyIsTrueWithAllTopicsReady) {
  const auto c = roll_up({entry("a", TopicState::Ready), entry("b", TopicState::Ready)});
  EXPECT_TRUE(c.ready);
  EXPECT_EQ(c.reason, "AllTopicsReady");
}

TEST(TopicStatusRollUp, AnyErrorIsFalseWithTheFirstErrorsReasonListingEveryFailingTopic) {
  const auto c = roll_up({entry("a", TopicState::Pending, "Creating"),
                          entry("b", TopicState::Error, "PartitionDecreaseRefused",
                                "topic b has 12 partitions; ..."),
                          entry("c", TopicState::Ready, "UpToDate"),
                          entry("d", TopicState::Error, "ResourceConflict", "topic d ...")});

  EXPECT_FALSE(c.ready);
  EXPECT_EQ(c.reason, "PartitionDecreaseRefused");
  EXPECT_TRUE(contains(c.message, "2 of 4 topics")) << c.message;
  EXPECT_TRUE(contains(c.message, "b (PartitionDecreaseRefused), d (ResourceConflict)"))
      << c.message;
  EXPECT_TRUE(contains(c.message, "topic b has 12 partitions")) << c.message;
}

TEST(TopicStatusRollUp, OnlyPendingTopicsIsFalseWithTopicsPending) {
  const auto c = roll_up({entry("a", TopicState::Pending, "Creating"),
                          entry("b", TopicState::Ready, "UpToDate")});
  EXPECT_FALSE(c.ready);
  EXPECT_EQ(c.reason, "TopicsPending");
  EXPECT_TRUE(contains(c.message, "1 of 2 topics: a")) << c.message;
}

TEST(TopicStatusRollUp, LongListsNameTheFirstFiveAndCountTheRest) {
  std::vector<TopicStatus> topics;
  for (int i = 1; i <= 8; ++i) {
    topics.push_back(entry("t" + std::to_string(i), TopicState::Pending, "Creating"));
  }
  const auto c = roll_up(topics);
  EXPECT_TRUE(contains(c.message, "t1, t2, t3, t4, t5 and 3 more")) << c.message;
  EXPECT_FALSE(contains(c.message, "t6")) << c.message;
}

TEST(TopicStatusRollUp, SummaryIsReadyOverTotal) {
  std::vector<TopicStatus> topics(7, entry("r", TopicState::Ready));
  topics.push_back(entry("p", TopicState::Pending));
  EXPECT_EQ(summary(topics), "7/8");
  EXPECT_EQ(summary({}), "0/0");
}

TEST(TopicStatusRollUp, StatesAreSpelledAsInTheStatusSchema) {
  EXPECT_EQ(to_string(TopicState::Ready), "Ready");
  EXPECT_EQ(to_string(TopicState::Pending), "Pending");
  EXPECT_EQ(to_string(TopicState::Error), "Error");
}

TEST(TopicStatusRollUp, APlanCarriesTheRollUpOfItsTopics) {
  const auto p = plan({.desired = {topic("a"), topic("b")},
                       .observed = {{"a", existing()}},
                       .managed = {"a"},
                       .self = self()});

  EXPECT_EQ(p.condition, roll_up(p.topics));
  EXPECT_EQ(p.condition.reason, "TopicsPending");
  EXPECT_EQ(p.summary, "1/2");
}

TEST(TopicsWarning, PendingTopicsAreNormalProgressNotAWarning) {
  EXPECT_FALSE(worth_a_warning(roll_up({entry("a", TopicState::Pending, "Creating")})));
}

TEST(TopicsWarning, AnErrorIsAWarningAndReadyIsNot) {
  EXPECT_TRUE(worth_a_warning(roll_up({entry("a", TopicState::Error, "PartitionDecreaseRefused", "...")})));
  EXPECT_TRUE(worth_a_warning({false, "SecretNotFound", "Secret \"x\" not found"}));
  EXPECT_FALSE(worth_a_warning(roll_up({entry("a", TopicState::Ready, "UpToDate")})));
}
