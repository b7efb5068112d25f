// Issue 14: the agent on its own, as a user runs it on a laptop or in docker
// compose: a hand-written AgentConfig without a status section, secrets from
// environment variables and files, no POD_NAME, no Kubernetes. The kubeconfig
// given points at nothing: an agent that tried to reach an API server would
// fail to start or never become ready.

#include "agent/agent_fixture.h"
#include "testenv.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace outflow::agent_tests {
namespace {

// OUTFLOW_AGENT_BIN in the environment runs these against another build (as
// AgentProcess does), e.g. the last release, to see them fail there.
std::string agent_binary() {
  const char* other = std::getenv("OUTFLOW_AGENT_BIN");
  return other != nullptr && *other != '\0' ? other : OUTFLOW_AGENT_BIN;
}

class StandaloneAgentTest : public ::testing::Test {
 protected:
  StandaloneAgentTest() : topic_(testenv::create_topic(3)), dir_(testenv::unique_name("/tmp/outflow-standalone")) {
    std::filesystem::create_directories(dir_);
  }
  ~StandaloneAgentTest() override {
    if (agent_ && agent_->running()) {
      EXPECT_EQ(agent_->terminate(30s), 0) << "the agent did not stop cleanly on SIGTERM";
    }
    if (HasFailure() && agent_) std::cerr << "---- agent log ----\n" << agent_->log() << "\n----\n";
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // The config a user writes: the database URL from an environment variable.
  std::string config(const std::string& extra = {}) const {
    return "apiVersion: outflow.dev/v1alpha1\n"
           "kind: AgentConfig\n"
           "metadata:\n"
           "  name: laptop-orders\n"
           "kafka:\n"
           "  bootstrapServers: [" + testenv::require("OUTFLOW_TEST_KAFKA_PLAINTEXT") + "]\n"
           "  requestTimeoutMs: 3000\n"
           "  connectTimeoutMs: 2000\n"
           "topics:\n"
           "  - name: " + topic_ + "\n"
           "outbox:\n"
           "  databaseUrl: {env: SHOP_DATABASE_URL}\n"
           "  table: " + db_.table() + "\n"
           "  defaultTopic: " + topic_ + "\n"
           "  pollIntervalMs: 500\n" + extra;
  }

  testenv::ChildProcess& start(const std::string& text) {
    const auto path = dir_ + "/agent.yaml";
    std::ofstream(path) << text;
    metrics_port_ = testenv::free_port();
    health_port_ = testenv::free_port();
    agent_ = std::make_unique<testenv::ChildProcess>(
        std::vector<std::string>{agent_binary(), "--config=" + path, "--kubeconfig=" + dir_ + "/no-kubeconfig",
                                 "--metrics-addr=127.0.0.1:" + std::to_string(metrics_port_),
                                 "--health-addr=127.0.0.1:" + std::to_string(health_port_)},
        std::map<std::string, std::string>{{"SHOP_DATABASE_URL", testenv::require("OUTFLOW_TEST_PG_URL")},
                                           {"KUBERNETES_SERVICE_HOST", ""}});
    return *agent_;
  }

  double metric(const std::string& name) const {
    return testenv::metric_value(testenv::http_get(metrics_port_, "/metrics").second, name);
  }

  testenv::OutboxDb db_;
  std::string topic_;
  std::string dir_;
  int metrics_port_ = 0;
  int health_port_ = 0;
  std::unique_ptr<testenv::ChildProcess> agent_;
};

TEST_F(StandaloneAgentTest, PublishesServesProbesAndMetricsWithoutAnyApiServer) {
  ASSERT_EQ(std::getenv("POD_NAME"), nullptr) << "the test must run without POD_NAME";
  auto& agent = start(config());
  ASSERT_TRUE(eventually([&] { return testenv::http_get(health_port_, "/readyz").first == 200; }, 20s))
      << "ready = database session + Kafka reachable; " << testenv::http_get(health_port_, "/readyz").second;
  EXPECT_EQ(testenv::http_get(health_port_, "/healthz").first, 200);

  db_.insert_many(200, 10);
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 30s)) << db_.pending() << " rows still pending";
  const auto got = testenv::read_topic(topic_, 200, 15s);
  const auto d = deliveries(got);
  EXPECT_EQ(d.distinct, 200u);
  expect_per_key_order(d);
  EXPECT_TRUE(eventually([&] { return metric("outflow_outbox_published_total") >= 200; }, 10s));

  const auto log = agent.log();
  EXPECT_NE(log.find("no status section: not using the Kubernetes API"), std::string::npos) << log;
  EXPECT_EQ(log.find("status:"), std::string::npos) << "no status writes without a status section";
  EXPECT_EQ(log.find("kubeconfig"), std::string::npos) << log;
}

TEST_F(StandaloneAgentTest, ReplaysDeadLettersWithoutAnyApiServer) {
  const auto dlq = testenv::unique_name("dlq");
  for (const auto& t : {dlq, dlq + ".retry.1", dlq + ".parked"}) testenv::create_topic(t, 1);
  start(config("deadLetter:\n  topic: " + dlq +
               "\n  maxAttempts: 1\n  backoff: {initialMs: 300, multiplier: 2, maxMs: 1000}\n"));
  ASSERT_TRUE(eventually([&] { return testenv::http_get(health_port_, "/readyz").first == 200; }, 20s));

  testenv::produce(dlq, "order-7", "payload-7",
                   {{"outflow-original-topic", topic_}, {"outflow-error", "timeout calling billing"}});
  const auto retried = testenv::read_topic(topic_, 1, 30s);
  ASSERT_EQ(retried.size(), 1u);
  EXPECT_EQ(retried[0].key, "order-7");
  EXPECT_EQ(retried[0].headers.at("outflow-attempt"), "2");
  EXPECT_TRUE(eventually([&] { return metric("outflow_dlq_republished_total") >= 1; }, 10s));
}

TEST_F(StandaloneAgentTest, ABadConfigStopsItWithOneLineNamingEveryField) {
  auto& agent = start(config("circuitBreaker: {failureRate: 50}\n"));
  ASSERT_TRUE(eventually([&] { return !agent.running(); }, 20s));
  EXPECT_EQ(agent.terminate(), 1);
  const auto log = agent.log();
  EXPECT_NE(log.find("invalid configuration: circuitBreaker.failureRate: unknown field (expected one of: "
                     "failureRateThreshold, minimumCalls, windowSize, openDurationMs, halfOpenCalls)"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace outflow::agent_tests
