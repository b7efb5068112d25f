#pragma once

// Runs the real outflow-operator binary against the test environment and
// gives tests what they need to watch it work: pipelines to apply, waits on
// their status, and a Kafka admin client to check topics on the broker.

#include "common/kafka/admin.h"
#include "common/kafka/handles.h"
#include "common/kube/api_client.h"
#include "common/kube/rest_client.h"
#include "child_process.h"
#include "kube_helpers.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace outflow::operator_tests {

using nlohmann::json;
using namespace std::chrono_literals;

// One outflow-operator process. Output goes to a log file that a failing
// test prints. The destructor kills a process still running.
class OperatorProcess {
 public:
  // `args` come after the ones every test needs (kubeconfig from KUBECONFIG,
  // free metrics/health ports, text logs at debug).
  explicit OperatorProcess(std::vector<std::string> args, const std::string& kubeconfig = {});

  // SIGTERM, then waits (bounded); returns the exit code (-signal if killed).
  int terminate(std::chrono::milliseconds timeout = 20s) { return process_->terminate(timeout); }
  void kill() { process_->kill(); }
  // SIGSTOP / SIGCONT: a process that stops answering and later resumes,
  // like a pod on a node that hung (or a long GC pause elsewhere).
  void freeze() { process_->signal(SIGSTOP); }
  void thaw() { process_->signal(SIGCONT); }
  bool running() { return process_->running(); }
  std::string log() const { return process_->log(); }
  pid_t pid() const { return process_->pid(); }
  int metrics_port() const { return metrics_port_; }
  int health_port() const { return health_port_; }

 private:
  int metrics_port_ = 0;
  int health_port_ = 0;
  std::unique_ptr<testenv::ChildProcess> process_;
};

using testenv::eventually;
using testenv::http_get;

// The arguments every test's operator runs with: watching `ns` only, resyncing
// every 3 s, deploying an agent image that no pull needs; then `extra_args`.
std::vector<std::string> operator_args(const std::string& ns, std::vector<std::string> extra_args = {});

// The Prometheus operator's CRD, reduced to what the API server needs to
// serve PrometheusRules. Cluster-wide and harmless to other tests, which run
// with alerts off; created once, left in place. Fails the test when the API
// server does not serve it within 30 s.
void install_prometheus_rule_crd(kube::ApiClient& api);

class OperatorTest : public ::testing::Test {
 protected:
  OperatorTest();
  ~OperatorTest() override;

  // Starts an operator watching this test's namespace.
  OperatorProcess& start_operator(std::vector<std::string> extra_args = {});

  // A pipeline on the test broker (PLAINTEXT), replicas 0 (no kubelet runs
  // here, so agents would never become ready), alert defaults off.
  json pipeline(const std::string& name, const json& topics) const;
  json apply(const json& pipeline);  // create or replace the spec
  json get(const std::string& name);
  std::optional<json> condition(const json& object, const std::string& type) const;
  // Waits for condition `type` to have `status` (and `reason` when given) with
  // observedGeneration current; returns the object, or fails the test.
  json wait_for_condition(const std::string& name, const std::string& type, const std::string& status,
                          const std::string& reason = {}, std::chrono::milliseconds timeout = 60s);

  std::map<std::string, kafka::DescribedTopic> describe(const std::vector<std::string>& topics);
  std::string unique_topic(const std::string& prefix) const;
  void create_secret(const std::string& name, const std::map<std::string, std::string>& data);

  kube::RestClient rest_;
  kube::ApiClient api_;
  std::unique_ptr<testenv::ScopedNamespace> namespace_;
  std::string ns_;
  std::string bootstrap_;
  kafka::ClientHandle kafka_;
  std::vector<std::unique_ptr<OperatorProcess>> operators_;
};

}  // namespace outflow::operator_tests
