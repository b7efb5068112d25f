// What a pending outbox row becomes before it reaches Kafka, or why it never can.

#include "agent/publisher/row_check.h"

#include <gtest/gtest.h>

using namespace outflow;
using namespace outflow::agent::publisher;

namespace {

pipeline::PipelineSpec spec_with(std::vector<std::string> topics, std::string default_topic) {
  pipeline::PipelineSpec spec;
  for (auto& name : topics) spec.topics.push_back({name, 1, 1, {}});
  spec.outbox.default_topic = std::move(default_topic);
  return spec;
}

OutboxRow row(std::optional<std::string> topic, std::optional<std::string> headers = std::nullopt) {
  OutboxRow r;
  r.id = 7;
  r.event_id = "0b9b7c4e-1d2a-4c55-9a55-1f0e7c7a0001";
  r.topic = std::move(topic);
  r.key = "order-1";
  r.payload = "{}";
  r.headers_json = std::move(headers);
  return r;
}

const KafkaMessage& message(const Prepared& p) {
  if (const auto* poison = std::get_if<Poison>(&p)) ADD_FAILURE() << "unexpected poison: " << poison->reason;
  return std::get<KafkaMessage>(p);
}

std::string poison_reason(const Prepared& p) {
  if (!std::holds_alternative<Poison>(p)) {
    ADD_FAILURE() << "expected poison, got something else (alternative " << p.index() << ")";
    return {};
  }
  return std::get<Poison>(p).reason;
}

}  // namespace

TEST(RowCheck, ARowWithoutTopicGoesToTheDefaultTopic) {
  EXPECT_EQ(message(prepare(row(std::nullopt), spec_with({"shop.orders"}, "shop.orders"))).topic, "shop.orders");
  EXPECT_EQ(message(prepare(row(""), spec_with({"shop.orders"}, "shop.orders"))).topic, "shop.orders");
}

TEST(RowCheck, ARowNamingADeclaredTopicGoesThere) {
  EXPECT_EQ(message(prepare(row("shop.refunds"), spec_with({"shop.orders", "shop.refunds"}, "shop.orders"))).topic,
            "shop.refunds");
}

TEST(RowCheck, AnUndeclaredTopicIsReportedForTheCallerToWaitOnThenNamedInTheReason) {
  const auto prepared = prepare(row("shop.secret"), spec_with({"shop.orders"}, "shop.orders"));
  ASSERT_TRUE(std::holds_alternative<UndeclaredTopic>(prepared));
  EXPECT_EQ(std::get<UndeclaredTopic>(prepared).topic, "shop.secret");
  const auto reason = undeclared_topic_reason("shop.secret");
  EXPECT_NE(reason.find("\"shop.secret\""), std::string::npos) << reason;
  EXPECT_NE(reason.find("spec.topics"), std::string::npos) << reason;
}

TEST(RowCheck, NoTopicAndNoDefaultIsPoison) {
  EXPECT_NE(poison_reason(prepare(row(std::nullopt), spec_with({"shop.orders"}, ""))).find("defaultTopic"),
            std::string::npos);
}

TEST(RowCheck, TheEventIdHeaderComesFirstThenTheRowsOwnHeaders) {
  const auto m = message(prepare(row(std::nullopt, R"({"tenant":"acme","trace":null})"),
                                 spec_with({"shop.orders"}, "shop.orders")));
  ASSERT_EQ(m.headers.size(), 3u);
  EXPECT_EQ(m.headers[0], Header(kEventIdHeader, "0b9b7c4e-1d2a-4c55-9a55-1f0e7c7a0001"));
  EXPECT_EQ(m.headers[1], Header("tenant", "acme"));
  EXPECT_EQ(m.headers[2], Header("trace", std::nullopt));
}

TEST(RowCheck, ARowCannotForgeTheEventIdHeader) {
  const auto m = message(prepare(row(std::nullopt, R"({"outflow-event-id":"forged"})"),
                                 spec_with({"shop.orders"}, "shop.orders")));
  ASSERT_EQ(m.headers.size(), 1u);
  EXPECT_EQ(m.headers[0].second, "0b9b7c4e-1d2a-4c55-9a55-1f0e7c7a0001");
}

TEST(RowCheck, HeadersThatAreNotAnObjectOfStringsArePoison) {
  const auto spec = spec_with({"shop.orders"}, "shop.orders");
  EXPECT_NE(poison_reason(prepare(row(std::nullopt, R"(["a"])"), spec)).find("JSON object"), std::string::npos);
  const auto number = poison_reason(prepare(row(std::nullopt, R"({"retries":3})"), spec));
  EXPECT_NE(number.find("\"retries\""), std::string::npos) << number;
  EXPECT_NE(number.find("number"), std::string::npos) << number;
  EXPECT_NE(poison_reason(prepare(row(std::nullopt, R"({"":"x"})"), spec)).find("empty"), std::string::npos);
  EXPECT_NE(poison_reason(prepare(row(std::nullopt, "{not json"), spec)).find("not valid JSON"), std::string::npos);
}

TEST(RowCheck, NullOrJsonNullHeadersMeanNone) {
  const auto spec = spec_with({"shop.orders"}, "shop.orders");
  EXPECT_EQ(message(prepare(row(std::nullopt, std::nullopt), spec)).headers.size(), 1u);
  EXPECT_EQ(message(prepare(row(std::nullopt, "null"), spec)).headers.size(), 1u);
}
