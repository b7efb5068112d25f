#pragma once

// Runs real outflow-agent processes the way a pod runs them: the config file
// outflow-operator renders for the pipeline, the database URL as a mounted
// Secret file, POD_NAME/POD_NAMESPACE from the downward API, against the real
// API server (an EventPipeline to report into), PostgreSQL and broker.

#include "agent/outbox_fixture.h"
#include "child_process.h"
#include "common/kube/api_client.h"
#include "common/kube/rest_client.h"
#include "kube_helpers.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace outflow::agent_tests {

using nlohmann::json;
using namespace std::chrono_literals;
using testenv::eventually;

class AgentProcess {
 public:
  AgentProcess(const std::string& pod, const std::string& ns, const std::string& config_path,
               std::vector<std::string> extra_args);
  int terminate(std::chrono::milliseconds timeout = 30s) { return process_->terminate(timeout); }
  void kill() { process_->kill(); }
  bool running() { return process_->running(); }
  std::string log() const { return process_->log(); }
  const std::string& pod() const { return pod_; }
  int metrics_port() const { return metrics_port_; }
  int health_port() const { return health_port_; }
  double metric(const std::string& name) const;

 private:
  std::string pod_;
  int metrics_port_ = 0;
  int health_port_ = 0;
  std::unique_ptr<testenv::ChildProcess> process_;
};

class AgentTest : public ::testing::Test {
 protected:
  AgentTest();
  ~AgentTest() override;

  // The pipeline's spec; tests change it before the first start_agent().
  json& spec() { return spec_; }
  // Creates the EventPipeline (first call) and the config file, then starts
  // an agent as pod `pod`. A pod name may be started again after it stopped.
  AgentProcess& start_agent(const std::string& pod, std::vector<std::string> extra_args = {});
  // Starts an agent on a config rendered from `spec` instead of spec(): the
  // same pipeline, as after a config roll, or a pod whose view differs
  // (another bootstrap address).
  AgentProcess& start_agent_with_spec(const std::string& pod, const json& spec);
  // Stops every agent with SIGTERM and expects exit 0.
  void stop_agents();

  json pipeline();
  // This pod's entry in status.agents, if it wrote one.
  std::optional<json> agent_entry(const std::string& pod);

  kube::RestClient rest_;
  kube::ApiClient api_;
  std::unique_ptr<testenv::ScopedNamespace> namespace_;
  std::string ns_;
  testenv::OutboxDb db_;
  std::string topic_;
  std::string name_ = "orders";

 private:
  void ensure_pipeline();
  std::string write_config(const json& spec, const std::string& file);

  json spec_;
  std::string uid_;
  std::string dir_;
  std::string config_path_;
  std::vector<std::unique_ptr<AgentProcess>> agents_;
};

// For per-key order checks: the first delivery of every outbox row, by key,
// in the order a consumer saw them, and how many deliveries were repeats.
struct Deliveries {
  std::map<std::string, std::vector<int>> first_by_key;  // key -> row numbers (payload prefix)
  std::size_t distinct = 0;
  std::size_t duplicates = 0;
};
Deliveries deliveries(const std::vector<testenv::Consumed>& messages);

// Fails the test at the first key whose rows first reached Kafka out of
// outbox order.
void expect_per_key_order(const Deliveries& d);

}  // namespace outflow::agent_tests
