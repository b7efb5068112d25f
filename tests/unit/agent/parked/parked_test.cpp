#include "agent/parked/parked.h"

#include "agent/replayer/routing.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace outflow::agent::parked;
namespace h = outflow::agent::replayer::header;
using outflow::agent::replayer::last_value;

ParkedMessage parked(std::int32_t partition, std::int64_t offset, std::int64_t timestamp_ms, Headers headers) {
  ParkedMessage m;
  m.partition = partition;
  m.offset = offset;
  m.timestamp_ms = timestamp_ms;
  m.key = "k1";
  m.value = "v";
  m.headers = std::move(headers);
  return m;
}

Headers outflow_headers(const std::string& topic, const std::string& attempt = "6") {
  return {{std::string(h::kOriginalTopic), topic},
          {std::string(h::kOriginalPartition), "3"},
          {std::string(h::kOriginalOffset), "42"},
          {std::string(h::kError), "boom"},
          {std::string(h::kAttempt), attempt},
          {std::string(h::kParkedReason), "retries used up"}};
}

outflow::agent::replayer::RoutingRules rules_for(std::vector<std::string> topics) {
  outflow::pipeline::PipelineSpec spec;
  for (const auto& t : topics) spec.topics.push_back({t, 1, 1, {}});
  spec.dead_letter = outflow::pipeline::DeadLetterSpec{};
  spec.dead_letter->topic = "shop.dlq";
  return outflow::agent::replayer::routing_rules(spec);
}

TEST(ParkedDescribe, ReadsOutflowSpringAndConnectHeaders) {
  const auto info = describe(outflow_headers("shop.orders"));
  EXPECT_EQ(info.original_topic, "shop.orders");
  EXPECT_EQ(info.original_partition, 3);
  EXPECT_EQ(info.original_offset, 42);
  EXPECT_EQ(info.attempt, "6");
  EXPECT_EQ(info.reason, "retries used up");
  EXPECT_EQ(info.error, "boom");

  EXPECT_EQ(describe({{std::string(h::kSpringTopic), "spring.topic"}}).original_topic, "spring.topic");
  EXPECT_EQ(describe({{std::string(h::kConnectTopic), "connect.topic"}}).original_topic, "connect.topic");
}

TEST(ParkedDescribe, KeepsTheTopicOfAMessageParkedForAnUnreadableAttempt) {
  // Parked because its attempt header is not a number: it still names its
  // topic, which is what a person filters by.
  const auto info = describe(outflow_headers("shop.orders", "many"));
  EXPECT_EQ(info.original_topic, "shop.orders");
  EXPECT_EQ(info.attempt, "many");
  EXPECT_EQ(info.error, "boom");
}

TEST(ParkedDescribe, AMessageWithoutHeadersHasNoTopic) {
  const auto info = describe({{std::string(h::kParkedReason), "no original-topic header"}});
  EXPECT_FALSE(info.original_topic);
  EXPECT_FALSE(info.attempt);
  EXPECT_EQ(info.reason, "no original-topic header");
}

TEST(ParkedFilter, SelectsByOriginalTopic) {
  Filter f;
  f.original_topics = {"a", "b"};
  EXPECT_TRUE(matches(f, parked(0, 0, 1000, outflow_headers("a"))));
  EXPECT_TRUE(matches(f, parked(0, 0, 1000, outflow_headers("b"))));
  EXPECT_FALSE(matches(f, parked(0, 0, 1000, outflow_headers("c"))));
  EXPECT_FALSE(matches(f, parked(0, 0, 1000, {})));
  EXPECT_TRUE(matches(Filter{}, parked(0, 0, 1000, {})));
}

TEST(ParkedFilter, SinceIsInclusiveAndUntilExclusive) {
  Filter f;
  f.since_ms = 1000;
  f.until_ms = 2000;
  EXPECT_FALSE(matches(f, parked(0, 0, 999, {})));
  EXPECT_TRUE(matches(f, parked(0, 0, 1000, {})));
  EXPECT_TRUE(matches(f, parked(0, 0, 1999, {})));
  EXPECT_FALSE(matches(f, parked(0, 0, 2000, {})));
  // When it was parked is unknown: neither since nor until anything.
  EXPECT_FALSE(matches(f, parked(0, 0, -1, {})));
  EXPECT_TRUE(matches(Filter{}, parked(0, 0, -1, {})));
}

TEST(ParkedFilter, SelectsByPartitionAndOffset) {
  Filter f;
  f.partition = 1;
  f.from_offset = 10;
  EXPECT_FALSE(matches(f, parked(0, 10, 1, {})));
  EXPECT_FALSE(matches(f, parked(1, 9, 1, {})));
  EXPECT_TRUE(matches(f, parked(1, 10, 1, {})));
}

TEST(ParkedFilter, SplitsCommaListsAndRepeats) {
  EXPECT_EQ(split_topics({"a,b", "c", ",d,,"}), (std::set<std::string>{"a", "b", "c", "d"}));
  EXPECT_TRUE(split_topics({",", ""}).empty());
}

TEST(ParkedTime, ParsesRfc3339WithMilliseconds) {
  EXPECT_EQ(parse_time_ms("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(parse_time_ms("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(parse_time_ms("1970-01-01T00:00:01.123456Z"), 1123);
  EXPECT_EQ(parse_time_ms("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_FALSE(parse_time_ms("yesterday"));
  EXPECT_FALSE(parse_time_ms("1970-01-01"));
  EXPECT_EQ(format_time_ms(1500), "1970-01-01T00:00:01.500Z");
  EXPECT_EQ(format_time_ms(1764000000123), "2025-11-24T16:00:00.123Z");
}

TEST(ParkedReplay, ResetsTheAttemptDropsTheReasonAndSaysWhereItCameFrom) {
  auto headers = outflow_headers("shop.orders");
  headers.push_back({"app-trace", std::nullopt});
  headers.push_back({std::string(h::kAttempt), "7"});  // an earlier trip's header, twice
  headers.push_back({std::string(kReplayedFrom), "shop.dlq.parked/0/1"});
  headers.push_back({std::string(h::kMovedFrom), "shop.dlq/0/9"});  // not a repeat of that tier copy
  const auto out = replay_headers(headers, "shop.dlq.parked", 2, 17);

  const Headers expected{{std::string(h::kOriginalTopic), "shop.orders"},
                         {std::string(h::kOriginalPartition), "3"},
                         {std::string(h::kOriginalOffset), "42"},
                         {std::string(h::kError), "boom"},
                         {"app-trace", std::nullopt},
                         {std::string(kReplayedFrom), "shop.dlq.parked/0/1"},
                         {std::string(h::kAttempt), "1"},
                         {std::string(kReplayedFrom), "shop.dlq.parked/2/17"}};
  EXPECT_EQ(out, expected);
  EXPECT_EQ(last_value(out, kReplayedFrom), "shop.dlq.parked/2/17");
  EXPECT_FALSE(last_value(out, h::kParkedReason));
}

TEST(ParkedReplay, RefusesWhatTheReplayerWouldOnlyParkAgain) {
  const auto rules = rules_for({"shop.orders"});
  EXPECT_EQ(replay_refusal(replay_headers(outflow_headers("shop.orders"), "p", 0, 0), rules), std::nullopt);
  // An unreadable attempt is no reason any more: replay resets it.
  EXPECT_EQ(replay_refusal(replay_headers(outflow_headers("shop.orders", "x"), "p", 0, 0), rules), std::nullopt);
  const auto foreign = replay_refusal(replay_headers(outflow_headers("other.topic"), "p", 0, 0), rules);
  ASSERT_TRUE(foreign);
  EXPECT_NE(foreign->find("other.topic"), std::string::npos) << *foreign;
  const auto headerless = replay_refusal(replay_headers({}, "p", 0, 0), rules);
  ASSERT_TRUE(headerless);
  EXPECT_NE(headerless->find("original-topic"), std::string::npos) << *headerless;
}

TEST(ParkedReplay, RefusesACopyParkedWithoutItsValue) {
  const auto rules = rules_for({"shop.orders"});
  auto headers = outflow_headers("shop.orders");
  headers.push_back({"outflow-parked-value-dropped", "50000"});
  const auto refusal = replay_refusal(replay_headers(headers, "p", 0, 0), rules);
  ASSERT_TRUE(refusal);
  EXPECT_NE(refusal->find("50000 bytes dropped"), std::string::npos) << *refusal;
  EXPECT_NE(refusal->find("empty message"), std::string::npos) << *refusal;
}

TEST(ParkedOutput, OneLinePerMessageWithBinaryEscaped) {
  auto m = parked(2, 17, 1500, outflow_headers("shop.orders"));
  m.key = std::string("a\tb\n\x01\xff", 6);
  EXPECT_EQ(format_line(m), "2\t17\t1970-01-01T00:00:01.500Z\tshop.orders\t6\ta\\x09b\\x0a\\x01\\xff\tretries used up");
  m.key.reset();
  m.timestamp_ms = -1;
  m.headers = {};
  EXPECT_EQ(format_line(m), "2\t17\t-\t-\t-\t-\t-");
  EXPECT_EQ(printable("a\\b"), "a\\\\b");
}

TEST(ParkedOutput, JsonGivesTheValueBySizeOnly) {
  auto m = parked(1, 5, 1500, outflow_headers("shop.orders"));
  m.value = "secret payload";
  m.key = std::string("\xff", 1);
  const auto j = to_json(m);
  EXPECT_EQ(j["partition"], 1);
  EXPECT_EQ(j["offset"], 5);
  EXPECT_EQ(j["timestamp"], "1970-01-01T00:00:01.500Z");
  EXPECT_EQ(j["timestampMs"], 1500);
  EXPECT_EQ(j["originalTopic"], "shop.orders");
  EXPECT_EQ(j["originalPartition"], 3);
  EXPECT_EQ(j["originalOffset"], 42);
  EXPECT_EQ(j["attempt"], 6) << "a number, like partition and offset";
  EXPECT_FALSE(j.contains("attemptText"));
  EXPECT_EQ(j["reason"], "retries used up");
  EXPECT_EQ(j["error"], "boom");
  EXPECT_EQ(j["valueBytes"], 14);
  const auto line = dump_line(j);  // a non-UTF-8 key must not throw
  EXPECT_EQ(line.find("secret"), std::string::npos);
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(ParkedOutput, JsonShowsAnUnreadableAttemptAsTextBesideANullNumber) {
  auto headers = outflow_headers("shop.orders");
  headers.push_back({"outflow-attempt", "x"});
  const auto j = to_json(parked(1, 5, 1500, headers));
  EXPECT_TRUE(j["attempt"].is_null());
  EXPECT_EQ(j["attemptText"], "x");
  auto none = parked(1, 6, 1500, {});
  EXPECT_TRUE(to_json(none)["attempt"].is_null());
  EXPECT_FALSE(to_json(none).contains("attemptText"));
}

TEST(ParkedPurge, DeletesUpToTheFirstNewEnoughRecord) {
  EXPECT_EQ(plan_purge(0, 5, 20, 12).target, 12);
  EXPECT_EQ(plan_purge(0, 5, 20, 12).count(), 7);
  // No record that new: everything goes.
  EXPECT_EQ(plan_purge(0, 5, 20, -1).target, 20);
  EXPECT_EQ(plan_purge(0, 5, 20, -1).count(), 15);
  // Already deleted, or newer than the end read a moment before: clamped.
  EXPECT_EQ(plan_purge(0, 5, 20, 3).count(), 0);
  EXPECT_EQ(plan_purge(0, 5, 20, 25).target, 20);
  EXPECT_EQ(plan_purge(0, 0, 0, -1).count(), 0);
}

}  // namespace
