// The demo's verifier: what counts as lost, duplicated and out of key order.

#include "demo/delivery_check.h"

#include <gtest/gtest.h>

using namespace outflow::demo;

namespace {

// Rows 1..n, keys alternating a/b, event ids "e<id>".
std::vector<ExpectedEvent> rows(int n) {
  std::vector<ExpectedEvent> out;
  for (int i = 1; i <= n; ++i) out.push_back({i, "e" + std::to_string(i), i % 2 ? "a" : "b"});
  return out;
}

// Key a in partition 0, key b in partition 1, offsets in arrival order.
struct Topic {
  std::vector<SeenMessage> messages;
  std::int64_t next[2] = {0, 0};
  Topic& add(int id, bool republished = false) {
    const int p = id % 2 ? 0 : 1;
    messages.push_back({p, next[p]++, "e" + std::to_string(id), republished});
    return *this;
  }
};

TEST(DeliveryCheck, EveryRowOnceInOrderIsClean) {
  Topic t;
  for (int i = 1; i <= 6; ++i) t.add(i);
  const auto r = check_delivery(rows(6), t.messages);
  EXPECT_EQ(r.events, 6u);
  EXPECT_EQ(r.delivered, 6u);
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.out_of_key_order, 0u);
  EXPECT_TRUE(r.ok());
}

TEST(DeliveryCheck, AMissingRowIsLost) {
  Topic t;
  t.add(1).add(2).add(4);
  const auto r = check_delivery(rows(4), t.messages);
  EXPECT_EQ(r.lost, 1u);
  EXPECT_FALSE(r.ok());
}

TEST(DeliveryCheck, ARedeliveryIsADuplicateNotAnOrderViolation) {
  // At-least-once: row 1 again after row 3 (same key) is a duplicate only.
  Topic t;
  t.add(1).add(3).add(1).add(2);
  const auto r = check_delivery(rows(3), t.messages);
  EXPECT_EQ(r.duplicates, 1u);
  EXPECT_EQ(r.out_of_key_order, 0u);
  EXPECT_TRUE(r.ok());
}

TEST(DeliveryCheck, AFirstDeliveryBehindALaterRowOfItsKeyIsOutOfOrder) {
  Topic t;
  t.add(3).add(1).add(2);  // key a: 3 before 1
  const auto r = check_delivery(rows(3), t.messages);
  EXPECT_EQ(r.out_of_key_order, 1u);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_FALSE(r.ok());
}

TEST(DeliveryCheck, OrderIsPerKeyNotAcrossKeys) {
  // Partition 1 (key b) read before partition 0 (key a): still in order.
  std::vector<SeenMessage> seen = {{1, 0, "e2", false}, {1, 1, "e4", false}, {0, 0, "e1", false}, {0, 1, "e3", false}};
  EXPECT_TRUE(check_delivery(rows(4), seen).ok());
}

TEST(DeliveryCheck, PartitionsInterleavedAreJudgedByOffset) {
  // A reader may hand out a partition's messages in any interleaving with
  // others, but the verdict follows offsets.
  std::vector<SeenMessage> seen = {{0, 1, "e3", false}, {1, 0, "e2", false}, {0, 0, "e1", false}};
  EXPECT_EQ(check_delivery(rows(3), seen).out_of_key_order, 0u);
}

TEST(DeliveryCheck, RepublishedDeadLettersAndOtherRunsAreCountedApart) {
  Topic t;
  t.add(1).add(2).add(1, /*republished=*/true);
  t.messages.push_back({0, 99, "someone-else", false});
  t.messages.push_back({0, 100, std::nullopt, false});
  const auto r = check_delivery(rows(2), t.messages);
  EXPECT_EQ(r.republished, 1u);
  EXPECT_EQ(r.foreign, 2u);
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_TRUE(r.ok());
}

TEST(DeliveryCheck, DescribeGivesTheNumbers) {
  Topic t;
  t.add(1).add(1);
  EXPECT_EQ(describe(check_delivery(rows(2), t.messages)),
            "2 events: 1 delivered, 1 duplicates, 1 lost, 0 out of key order");
}

TEST(DeliveryCheck, ParsesPsqlRows) {
  const auto e = parse_expected("1 0b5e-1 order-1\n2 0b5e-2 order-2\n\n");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[1].id, 2);
  EXPECT_EQ(e[1].event_id, "0b5e-2");
  EXPECT_EQ(e[1].key, "order-2");
}

TEST(DeliveryCheck, RefusesRowsOfAnotherShapeNamingTheLine) {
  try {
    parse_expected("1 e1 a\n2 e2\n");
    FAIL() << "accepted a row without a key";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_expected("x1 e1 a\n"), std::invalid_argument);
  EXPECT_THROW(parse_expected("1 e1 a extra\n"), std::invalid_argument);
}

}  // namespace
