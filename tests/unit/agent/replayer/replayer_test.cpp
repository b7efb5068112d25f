// The replayer's identity in Kafka and what it refuses before connecting.

#include "agent/replayer/replayer.h"

#include <gtest/gtest.h>

using namespace outflow;
using namespace outflow::agent::replayer;

TEST(ReplayerGroup, OnePerPipelineSharedByItsReplicas) {
  EXPECT_EQ(group_id_for({"shop", "orders", "uid-1"}), "outflow-shop-orders-replayer");
  EXPECT_EQ(group_id_for({"shop", "orders", "uid-2"}), group_id_for({"shop", "orders", "uid-1"}))
      << "a recreated pipeline keeps its offsets";
  EXPECT_NE(group_id_for({"billing", "orders", "uid-1"}), group_id_for({"shop", "orders", "uid-1"}));
}

TEST(ReplayerSettings, APipelineWithoutDeadLetterBlockIsRefused) {
  breaker::CircuitBreaker breaker(pipeline::BreakerSpec{}, SteadyClock::instance());
  ReplayerSettings settings;
  settings.pipeline = {"shop", "orders", "uid"};
  settings.kafka.bootstrap_servers = {"127.0.0.1:9"};
  EXPECT_THROW(Replayer(settings, breaker), std::invalid_argument);
}
