// The chaos suite's judge must catch what it exists to catch: a lost row, a
// rolled-back row that escaped, a key reordered, a wrong event id. A checker
// that cannot fail would make the whole suite green for nothing.

#include "integration/chaos/delivery_check.h"

#include <gtest/gtest.h>

namespace outflow::chaos {
namespace {

std::string id(int n) { return "00000000-0000-0000-0000-" + std::string(12 - std::to_string(n).size(), '0') + std::to_string(n); }

WrittenRow row(int n, Outcome outcome, bool shared = false) { return {event_id_of(id(n)), outcome, shared}; }

// Connection 0: rows 0..3 of key "c0-k", row 2 rolled back, row 3 on a shared key.
std::vector<std::vector<WrittenRow>> written() {
  return {{row(0, Outcome::Committed), row(1, Outcome::Committed), row(2, Outcome::RolledBack),
           row(3, Outcome::Committed, true)}};
}

TEST(DeliveryCheckTest, EveryCommittedRowOnceInOrderIsClean) {
  DeliveryCheck check(written());
  EXPECT_EQ(check.missing(), 3u);
  check.see("c0-k", "c0:0", id(0));
  check.see("s", "c0:3", id(3));
  check.see("c0-k", "c0:1", id(1));
  EXPECT_EQ(check.missing(), 0u);
  const auto v = check.verdict();
  EXPECT_TRUE(v.clean());
  EXPECT_EQ(v.committed, 3u);
  EXPECT_EQ(v.rolled_back, 1u);
  EXPECT_EQ(v.delivered, 3u);
  EXPECT_EQ(v.duplicates, 0u);
}

TEST(DeliveryCheckTest, AMissingRowIsLostAndNamed) {
  DeliveryCheck check(written());
  check.see("c0-k", "c0:0", id(0));
  check.see("s", "c0:3", id(3));
  const auto v = check.verdict();
  EXPECT_FALSE(v.clean());
  EXPECT_EQ(v.lost, 1u);
  ASSERT_FALSE(v.examples.empty());
  EXPECT_NE(v.examples.back().find("c0:1"), std::string::npos);
}

TEST(DeliveryCheckTest, ARolledBackRowThatArrivesIsCaught) {
  DeliveryCheck check(written());
  check.see("c0-k", "c0:2", id(2));
  EXPECT_EQ(check.verdict().rolled_back_seen, 1u);
}

TEST(DeliveryCheckTest, OnlyFirstDeliveriesCountForOrderAndRepeatsAreDuplicates) {
  DeliveryCheck check(written());
  check.see("c0-k", "c0:0", id(0));
  check.see("c0-k", "c0:1", id(1));
  check.see("c0-k", "c0:0", id(0));  // a resend after a crash: a duplicate, not a reorder
  const auto v = check.verdict();
  EXPECT_EQ(v.order_violations, 0u);
  EXPECT_EQ(v.duplicates, 1u);
}

TEST(DeliveryCheckTest, AKeyWhoseLaterRowArrivesFirstIsAnOrderViolation) {
  DeliveryCheck check(written());
  check.see("c0-k", "c0:1", id(1));
  check.see("c0-k", "c0:0", id(0));
  const auto v = check.verdict();
  EXPECT_EQ(v.order_violations, 1u);
  EXPECT_FALSE(v.clean());
}

TEST(DeliveryCheckTest, SharedKeysAreNotOrderChecked) {
  DeliveryCheck check({{row(0, Outcome::Committed, true), row(1, Outcome::Committed, true)}});
  check.see("s", "c0:1", id(1));
  check.see("s", "c0:0", id(0));
  EXPECT_TRUE(check.verdict().clean());
}

TEST(DeliveryCheckTest, AWrongOrMissingEventIdAndUnknownPayloadsAreCaught) {
  DeliveryCheck check(written());
  check.see("c0-k", "c0:0", id(7));
  check.see("c0-k", "c0:1", std::nullopt);
  check.see("c0-k", "c9:0", id(0));
  check.see("c0-k", "hello", id(0));
  const auto v = check.verdict();
  EXPECT_EQ(v.wrong_event_id, 2u);
  EXPECT_EQ(v.unknown, 2u);
}

TEST(DeliveryCheckTest, TheDuplicateBoundIsTheUnmarkedBatchesOfEveryReplicaPerFault) {
  // Three batches in flight and one being marked.
  EXPECT_EQ(duplicate_bound(500, 3, 3), 18000u);
  EXPECT_EQ(duplicate_bound(500, 3, 11), 66000u);
}

}  // namespace
}  // namespace outflow::chaos
