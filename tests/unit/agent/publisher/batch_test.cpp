// One batch of claimed rows before and after Kafka.

#include "agent/publisher/batch.h"

#include <gtest/gtest.h>

using namespace outflow;
using namespace outflow::agent::publisher;

namespace {

pipeline::PipelineSpec spec() {
  pipeline::PipelineSpec s;
  s.topics.push_back({"shop.orders", 1, 1, {}});
  s.outbox.default_topic = "shop.orders";
  return s;
}

OutboxRow row(std::int64_t id, std::optional<std::string> key, std::optional<std::string> topic = std::nullopt) {
  OutboxRow r;
  r.id = id;
  r.event_id = "e" + std::to_string(id);
  r.key = std::move(key);
  r.topic = std::move(topic);
  r.created_at_ms = 1000 * id;
  return r;
}

std::vector<std::size_t> sent_indexes(const BatchPlan& plan) {
  std::vector<std::size_t> out;
  for (const auto& [index, message] : plan.to_send) out.push_back(index);
  return out;
}

}  // namespace

TEST(PlanBatch, EveryRoutableRowIsSentInOutboxOrder) {
  const auto plan = plan_batch({row(1, "a"), row(2, "b"), row(3, std::nullopt)}, spec());
  EXPECT_EQ(sent_indexes(plan), (std::vector<std::size_t>{0, 1, 2}));
}

TEST(PlanBatch, APoisonRowHoldsBackOnlyTheLaterRowsOfItsKey) {
  const auto plan =
      plan_batch({row(1, "a"), row(2, "b", "nowhere"), row(3, "a"), row(4, "b"), row(5, "c")}, spec());
  EXPECT_EQ(sent_indexes(plan), (std::vector<std::size_t>{0, 2, 4}));
  ASSERT_TRUE(std::holds_alternative<Poison>(plan.outcomes[1]));
  EXPECT_TRUE(std::holds_alternative<NotSent>(plan.outcomes[3]));  // waits behind row 2
}

TEST(PlanBatch, AKeylessPoisonRowHoldsBackNothing) {
  const auto plan = plan_batch({row(1, std::nullopt, "nowhere"), row(2, std::nullopt)}, spec());
  EXPECT_EQ(sent_indexes(plan), (std::vector<std::size_t>{1}));
}

TEST(Settle, OnlyAcknowledgedRowsAreMarkedPublished) {
  const std::vector<OutboxRow> rows = {row(1, "a"), row(2, "b"), row(3, "c"), row(4, "d")};
  const auto s = settle(rows, {Delivered{1500}, Failed{"Local: Message timed out"}, NotSent{}, Delivered{4250}});
  EXPECT_EQ(s.published, (std::vector<std::int64_t>{1, 4}));
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.not_sent, 1u);
  EXPECT_EQ(s.last_error, "Local: Message timed out");
  EXPECT_EQ(s.latencies_seconds, (std::vector<double>{0.5, 0.25}));
  EXPECT_TRUE(s.overtaken_keys.empty());
}

TEST(Settle, PoisonRowsAreSetAsideWithTheirReason) {
  const auto s = settle({row(1, "a"), row(2, "a")}, {Poison{"too big"}, NotSent{}});
  ASSERT_EQ(s.poison.size(), 1u);
  EXPECT_EQ(s.poison[0], (std::pair<std::int64_t, std::string>{1, "too big"}));
  EXPECT_TRUE(s.published.empty());
  EXPECT_EQ(s.last_error, "too big");
}

TEST(Settle, ALaterRowOfAKeyAcknowledgedAfterAnEarlierFailureIsReportedAsOvertaking) {
  const auto s = settle({row(1, "a"), row(2, "b"), row(3, "a"), row(4, "b")},
                        {Failed{"timeout"}, Delivered{5000}, Delivered{5000}, Delivered{5000}});
  EXPECT_EQ(s.overtaken_keys, (std::vector<std::string>{"a"}));
  EXPECT_EQ(s.published, (std::vector<std::int64_t>{2, 3, 4}));  // delivered is delivered: marked anyway
}

TEST(Settle, LatencyIsNeverNegativeWhenClocksDisagree) {
  const auto s = settle({row(5, "a")}, {Delivered{1000}});  // created at 5000 ms
  EXPECT_EQ(s.latencies_seconds, (std::vector<double>{0.0}));
}

TEST(PlanBatch, AnUndeclaredTopicWaitsWithinTheGraceHoldingBackOnlyItsKey) {
  PlanContext context;
  context.now_ms = 10'000;
  context.undeclared_topic_grace_ms = 60'000;
  // row(2) was created at 2 s: 8 s old, well within the grace.
  const auto plan = plan_batch({row(1, "a"), row(2, "b", "shop.new"), row(3, "b"), row(4, "c")}, spec(), context);
  EXPECT_EQ(sent_indexes(plan), (std::vector<std::size_t>{0, 3}));
  EXPECT_TRUE(std::holds_alternative<NotSent>(plan.outcomes[1]));  // waits, is not poison
  EXPECT_TRUE(std::holds_alternative<NotSent>(plan.outcomes[2]));  // behind it
  ASSERT_EQ(plan.waiting.size(), 1u);
  EXPECT_EQ(plan.waiting[0].first, 2);
  EXPECT_NE(plan.waiting[0].second.find("shop.new"), std::string::npos);
}

TEST(PlanBatch, AnUndeclaredTopicPastTheGraceIsPoisonNamingTheTopic) {
  PlanContext context;
  context.now_ms = 100'000;
  context.undeclared_topic_grace_ms = 60'000;
  const auto plan = plan_batch({row(2, "b", "shop.new")}, spec(), context);
  ASSERT_TRUE(std::holds_alternative<Poison>(plan.outcomes[0]));
  EXPECT_NE(std::get<Poison>(plan.outcomes[0]).reason.find("\"shop.new\" is not declared"), std::string::npos);
}

TEST(PlanBatch, ARowOverItsTopicsRealLimitIsPoisonBeforeSendingAndHoldsBackItsKey) {
  PlanContext context;
  context.limits = {{"shop.orders", {200, false}}};
  auto big = row(2, "a");
  big.payload.assign(500, 'x');
  auto small = row(3, "a");
  const auto plan = plan_batch({row(1, "b"), big, small}, spec(), context);
  EXPECT_EQ(sent_indexes(plan), (std::vector<std::size_t>{0}));
  ASSERT_TRUE(std::holds_alternative<Poison>(plan.outcomes[1]));
  EXPECT_NE(std::get<Poison>(plan.outcomes[1]).reason.find("max.message.bytes of 200"), std::string::npos);
}

TEST(Settle, RefusedRowsStayPendingAndNameTheHighestRefusedId) {
  const auto s = settle({row(1, "a"), row(2, "b"), row(3, "c")},
                        {Refused{"the broker refused it: Broker: Message size too large"}, Delivered{3000},
                         Refused{"the broker refused it: Broker: Message size too large"}});
  EXPECT_EQ(s.refused, 2u);
  EXPECT_EQ(s.last_refused_id, 3);
  EXPECT_EQ(s.published, (std::vector<std::int64_t>{2}));
  EXPECT_TRUE(s.poison.empty());
}

TEST(Settle, AKeyLeftUnpublishedByAnEarlierBatchOfTheChainIsOvertakenByItsRowInALaterOne) {
  std::set<std::string> stuck;
  const auto first = settle({row(1, "a"), row(2, "b")}, {Failed{"down"}, Delivered{1}}, stuck);
  EXPECT_TRUE(first.overtaken_keys.empty());
  EXPECT_EQ(stuck, std::set<std::string>{"a"});
  const auto second = settle({row(3, "a"), row(4, "b")}, {Delivered{1}, Delivered{1}}, stuck);
  EXPECT_EQ(second.overtaken_keys, std::vector<std::string>{"a"});
  EXPECT_EQ(second.published, (std::vector<std::int64_t>{3, 4}));
}
