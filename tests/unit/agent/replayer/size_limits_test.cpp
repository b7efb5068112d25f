// A message that cannot go where it was headed is parked, then parked
// without its value, then given up: it never pins its partition.

#include "agent/replayer/size_limits.h"

#include <gtest/gtest.h>

using namespace outflow::agent::replayer;

TEST(SizeLimits, TheTopicsOwnLimitAndTheProducersBothCount) {
  const SizeLimits limits{{{"parked", 10'000}}, 1'000'000};
  EXPECT_FALSE(over_limit("parked", 10'000, limits).has_value());
  const auto topic = over_limit("parked", 10'001, limits);
  ASSERT_TRUE(topic.has_value());
  EXPECT_EQ(*topic, "10001 bytes as a record is over topic parked's max.message.bytes of 10000");
  EXPECT_FALSE(over_limit("orders", 999'999, limits).has_value()) << "an unknown topic: the producer's limit only";
  const auto producer = over_limit("orders", 1'000'001, limits);
  ASSERT_TRUE(producer.has_value());
  EXPECT_EQ(*producer, "1000001 bytes as a record is over the producer's message.max.bytes of 1000000");
}

TEST(SizeLimits, AZeroLimitIsUnknownNotZero) {
  EXPECT_FALSE(over_limit("t", 5'000'000, SizeLimits{{{"t", 0}}, 0}).has_value());
}

TEST(Smaller, AMoveOrARepublishThatCannotGoIsParkedWhole) {
  EXPECT_EQ(smaller(MoveToTier{1}, "too big", 10), Route(Park{"too big"}));
  EXPECT_EQ(smaller(Republish{"orders", 2, 0}, "refused", 10), Route(Park{"refused"}));
}

TEST(Smaller, AWholeParkThatCannotGoIsParkedWithoutItsValueKeepingWhyItWasParked) {
  const auto next = smaller(Park{"retries used up"}, "too big for parked", 50'000);
  ASSERT_TRUE(next.has_value());
  const auto& park = std::get<Park>(*next);
  EXPECT_EQ(park.reason, "retries used up; its value of 50000 bytes was dropped: too big for parked");
  EXPECT_EQ(park.dropped_value, 50'000u);
}

TEST(Smaller, NothingIsSmallerThanACopyWithoutItsValue) {
  EXPECT_FALSE(smaller(Park{"x", 5}, "still too big", 5).has_value());
  EXPECT_FALSE(smaller(NotYetDue{1}, "n/a", 5).has_value());
}
