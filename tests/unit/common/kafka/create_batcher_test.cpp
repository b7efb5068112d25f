#include "common/kafka/create_batcher.h"

#include <gtest/gtest.h>

namespace outflow::kafka {
namespace {

std::vector<NewTopic> topics(std::initializer_list<const char*> names) {
  std::vector<NewTopic> out;
  for (const auto* n : names) out.push_back({n, 1, 1, {}});
  return out;
}

TEST(CreateBatch, ARequestJoinsUnlessANameIsAlreadyInOrTheBatchWouldOverflow) {
  EXPECT_TRUE(joins_batch({}, 0, topics({"a", "b"}), 1));  // alone, whatever its size
  EXPECT_TRUE(joins_batch({"a", "b"}, 2, topics({"c"}), 3));
  EXPECT_FALSE(joins_batch({"a", "b"}, 2, topics({"c", "d"}), 3));
  // The broker refuses a request naming a topic twice, for both mentions.
  EXPECT_FALSE(joins_batch({"a", "b"}, 2, topics({"c", "b"}), 100));
}

TEST(CreateBatch, EachCallerGetsTheAnswersForItsOwnTopicsInItsOrder) {
  const std::vector<TopicOutcome> batch{{"x", RD_KAFKA_RESP_ERR_NO_ERROR, ""},
                                        {"b", RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, "exists"},
                                        {"a", RD_KAFKA_RESP_ERR_NO_ERROR, ""}};
  const auto mine = answers_for(topics({"a", "b"}), batch);
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].name, "a");
  EXPECT_TRUE(mine[0].ok());
  EXPECT_EQ(mine[1].name, "b");
  EXPECT_EQ(mine[1].error, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
}

TEST(CreateBatch, ATopicTheAnswerLeftOutIsAnErrorNotASuccess) {
  const auto mine = answers_for(topics({"a"}), {});
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_FALSE(mine[0].ok());
  EXPECT_NE(mine[0].message.find("did not mention"), std::string::npos);
}

}  // namespace
}  // namespace outflow::kafka
