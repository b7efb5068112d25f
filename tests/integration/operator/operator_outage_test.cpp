// Trouble the operator must ride out: the Kafka broker going away and coming
// back, and the leader process dying. These stop shared parts of the test
// environment, so their binary runs alone (RUN_SERIAL).

#include "operator_fixture.h"

#include "testenv.h"

#include <cstdio>

namespace outflow::operator_tests {
namespace {

json topic(const std::string& name) { return {{"name", name}, {"partitions", 1}, {"replicationFactor", 1}}; }

class BrokerStopped : public testenv::PartStopped {
 public:
  BrokerStopped() : PartStopped("kafka") {}
};

double metric(int port, const std::string& name) { return testenv::metric_value(http_get(port, "/metrics").second, name); }

using OutageTest = OperatorTest;

TEST_F(OutageTest, BrokerDownMeansKafkaUnreachableWithBackOffThenRecovers) {
  auto& op = start_operator();
  const auto name = unique_topic("outage");
  apply(pipeline("outage", json::array({topic(name)})));
  wait_for_condition("outage", "Ready", "True");

  BrokerStopped outage;
  const auto down = wait_for_condition("outage", "Ready", "False", "KafkaUnreachable", 60s);
  EXPECT_NE(condition(down, "TopicsReady")->value("message", "").find("bootstrapServers"), std::string::npos);
  // No hot loop: over 8 s with the broker down, at most a handful of attempts
  // (back-off 1 s, 2 s, 4 s, ...), each bounded by requestTimeoutMs (3 s).
  const auto calls_before = metric(op.metrics_port(), "outflow_operator_kafka_admin_calls_total");
  std::this_thread::sleep_for(8s);
  const auto calls = metric(op.metrics_port(), "outflow_operator_kafka_admin_calls_total") - calls_before;
  std::printf("admin calls in 8 s with the broker down: %.0f\n", calls);
  EXPECT_LE(calls, 4);

  outage.restart();
  wait_for_condition("outage", "Ready", "True", "", 90s);
  EXPECT_EQ(describe({name}).size(), 1u);
}

TEST_F(OutageTest, AnotherReplicaTakesOverWhenTheLeaderDies) {
  const std::vector<std::string> election{"--leader-elect", "--leader-election-namespace=" + ns_,
                                          "--leader-election-lease-duration=3s",
                                          "--leader-election-renew-deadline=2s",
                                          "--leader-election-retry-period=500ms"};
  auto& first = start_operator(election);
  ASSERT_TRUE(eventually([&] { return metric(first.metrics_port(), "outflow_operator_leader") == 1; }, 20s))
      << first.log();
  auto& second = start_operator(election);
  ASSERT_TRUE(eventually([&] { return http_get(second.health_port(), "/readyz").first == 200; }, 20s));
  EXPECT_EQ(metric(second.metrics_port(), "outflow_operator_leader"), 0) << "one leader at a time";

  apply(pipeline("before", json::array({topic(unique_topic("before"))})));
  wait_for_condition("before", "Ready", "True");

  // The leader dies without releasing its lease; the standby waits for the
  // lease to expire (3 s), then reconciles.
  first.kill();
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return metric(second.metrics_port(), "outflow_operator_leader") == 1; }, 20s))
      << second.log();
  std::printf("takeover after the leader was killed: %.2f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count());
  apply(pipeline("after", json::array({topic(unique_topic("after"))})));
  wait_for_condition("after", "Ready", "True");
  operators_.erase(operators_.begin());  // killed: nothing to terminate
}

}  // namespace
}  // namespace outflow::operator_tests
