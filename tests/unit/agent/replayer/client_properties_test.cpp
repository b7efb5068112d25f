// The replayer's consumer and producer settings.

#include "agent/replayer/client_properties.h"

#include <gtest/gtest.h>

#include <map>

using namespace outflow;
using namespace outflow::agent::replayer;

namespace {

std::map<std::string, std::string> as_map(const std::vector<kafka::Property>& properties) {
  std::map<std::string, std::string> out;
  for (const auto& p : properties) out[p.name] = p.value;  // the last one counts, as in librdkafka
  return out;
}

ReplayerSettings settings() {
  ReplayerSettings s;
  s.kafka.bootstrap_servers = {"127.0.0.1:9092"};
  s.group_id = "outflow-shop-orders-replayer";
  return s;
}

}  // namespace

TEST(ReplayerClientProperties, NeitherClientCreatesTopics) {
  EXPECT_EQ(as_map(consumer_properties(settings())).at("allow.auto.create.topics"), "false");
  EXPECT_EQ(as_map(producer_properties(settings())).at("allow.auto.create.topics"), "false");
}

TEST(ReplayerClientProperties, StaticMembershipUnderThePodName) {
  auto s = settings();
  EXPECT_EQ(as_map(consumer_properties(s)).count("group.instance.id"), 0u) << "no pod name: dynamic membership";
  s.instance_id = "orders-agent-7d9f-x2x";
  const auto props = as_map(consumer_properties(s));
  EXPECT_EQ(props.at("group.instance.id"), "orders-agent-7d9f-x2x");
  EXPECT_EQ(props.at("group.id"), "outflow-shop-orders-replayer");
  EXPECT_EQ(props.at("session.timeout.ms"), "10000");
}

TEST(ReplayerClientProperties, RoundRobinSoReplicasSplitSinglePartitionTiers) {
  EXPECT_EQ(as_map(consumer_properties(settings())).at("partition.assignment.strategy"), "roundrobin");
}

TEST(ReplayerClientProperties, OffsetsAreCommittedByHandFromTheOldest) {
  const auto props = as_map(consumer_properties(settings()));
  EXPECT_EQ(props.at("enable.auto.commit"), "false");
  EXPECT_EQ(props.at("enable.auto.offset.store"), "false");
  EXPECT_EQ(props.at("auto.offset.reset"), "earliest");
}
