#include "agent/agent_fixture.h"

#include "common/pipeline/spec.h"
#include "operator/workloads/agent_config.h"
#include "testenv.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

namespace outflow::agent_tests {

AgentProcess::AgentProcess(const std::string& pod, const std::string& ns, const std::string& config_path,
                           std::vector<std::string> extra_args)
    : pod_(pod), metrics_port_(testenv::free_port()), health_port_(testenv::free_port()) {
  // OUTFLOW_AGENT_BIN in the environment runs the suite against another
  // build of the agent (e.g. the last release, to see a new test fail there).
  const char* binary = std::getenv("OUTFLOW_AGENT_BIN");
  std::vector<std::string> argv{binary != nullptr && *binary != '\0' ? binary : OUTFLOW_AGENT_BIN,
                                "--config=" + config_path,
                                "--kubeconfig=" + testenv::require("KUBECONFIG"),
                                "--metrics-addr=127.0.0.1:" + std::to_string(metrics_port_),
                                "--health-addr=127.0.0.1:" + std::to_string(health_port_)};
  // Tests want status changes fast; one that passes its own interval gets that.
  const bool own_interval = std::any_of(extra_args.begin(), extra_args.end(), [](const std::string& arg) {
    return arg.rfind("--status-interval", 0) == 0;
  });
  if (!own_interval) argv.push_back("--status-interval=1s");
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<testenv::ChildProcess>(std::move(argv),
                                                     std::map<std::string, std::string>{{"POD_NAME", pod}, {"POD_NAMESPACE", ns}});
}

double AgentProcess::metric(const std::string& name) const {
  return testenv::metric_value(testenv::http_get(metrics_port_, "/metrics").second, name);
}

AgentTest::AgentTest() : rest_(testenv::admin_client()), api_(rest_) {
  testenv::apply_crd_and_wait_established(rest_);
  namespace_ = std::make_unique<testenv::ScopedNamespace>(rest_, "agent");
  ns_ = namespace_->name();
  topic_ = testenv::create_topic(6);
  spec_ = {{"kafka",
            {{"bootstrapServers", {testenv::require("OUTFLOW_TEST_KAFKA_PLAINTEXT")}},
             {"requestTimeoutMs", 3000},
             {"connectTimeoutMs", 2000}}},
           {"topics", json::array({{{"name", topic_}, {"partitions", 6}, {"replicationFactor", 1}}})},
           {"outbox",
            {{"databaseSecretRef", {{"name", "orders-db"}, {"key", "url"}}},
             {"table", db_.table()},
             {"defaultTopic", topic_},
             {"pollIntervalMs", 500}}},
           {"agent", {{"replicas", 3}}},
           {"alerts", {{"defaults", false}}}};
  dir_ = testenv::unique_name("/tmp/outflow-agent-test");
  std::filesystem::create_directories(dir_);
}

AgentTest::~AgentTest() {
  stop_agents();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void AgentTest::stop_agents() {
  for (auto& agent : agents_) {
    if (!agent->running()) continue;
    const int code = agent->terminate();
    EXPECT_EQ(code, 0) << "agent " << agent->pod() << " did not stop cleanly on SIGTERM";
  }
  if (::testing::Test::HasFailure()) {
    for (auto& agent : agents_) {
      const auto text = agent->log();
      std::cerr << "---- agent " << agent->pod() << " log (last 8000 bytes) ----\n"
                << text.substr(text.size() > 8000 ? text.size() - 8000 : 0) << "\n----\n";
    }
  }
  agents_.clear();
}

void AgentTest::ensure_pipeline() {
  if (!config_path_.empty()) return;
  const auto created = api_.create(kube::kinds::event_pipelines(), ns_,
                                   {{"apiVersion", "outflow.dev/v1alpha1"},
                                    {"kind", "EventPipeline"},
                                    {"metadata", {{"name", name_}, {"namespace", ns_}}},
                                    {"spec", spec_}});
  uid_ = created["metadata"].value("uid", "");
  config_path_ = write_config(spec_, "agent.yaml");
}

std::string AgentTest::write_config(const json& spec, const std::string& file) {
  const op::workloads::PipelineIdentity identity{ns_, name_, uid_};
  auto config = op::workloads::agent_config(identity, pipeline::parse_spec(spec));
  // In a pod the Secret is mounted at the path the operator chose; here the
  // same file lives in the test's own directory.
  const auto url_file = dir_ + "/database-url";
  std::ofstream(url_file) << testenv::require("OUTFLOW_TEST_PG_URL");
  config["outbox"]["databaseUrl"] = {{"file", url_file}};
  const auto path = dir_ + "/" + file;
  std::ofstream(path) << op::workloads::render_agent_config(config);
  return path;
}

AgentProcess& AgentTest::start_agent(const std::string& pod, std::vector<std::string> extra_args) {
  ensure_pipeline();
  agents_.push_back(std::make_unique<AgentProcess>(pod, ns_, config_path_, std::move(extra_args)));
  return *agents_.back();
}

AgentProcess& AgentTest::start_agent_with_spec(const std::string& pod, const json& spec) {
  ensure_pipeline();
  const auto path = write_config(spec, "agent-" + pod + ".yaml");
  agents_.push_back(std::make_unique<AgentProcess>(pod, ns_, path, std::vector<std::string>{}));
  return *agents_.back();
}

json AgentTest::pipeline() { return api_.get(kube::kinds::event_pipelines(), ns_, name_); }

std::optional<json> AgentTest::agent_entry(const std::string& pod) {
  const auto object = pipeline();
  if (!object.contains("status")) return std::nullopt;
  const auto agents = object["status"].value("agents", json::array());
  for (const auto& entry : agents) {
    if (entry.value("pod", "") == pod) return entry;
  }
  return std::nullopt;
}

Deliveries deliveries(const std::vector<testenv::Consumed>& messages) {
  Deliveries d;
  std::set<std::string> seen;
  for (const auto& m : messages) {
    if (!seen.insert(m.value).second) {
      ++d.duplicates;
      continue;
    }
    d.first_by_key[m.key.value_or("")].push_back(std::stoi(m.value));
  }
  d.distinct = seen.size();
  return d;
}

void expect_per_key_order(const Deliveries& d) {
  for (const auto& [key, rows] : d.first_by_key) {
    for (std::size_t i = 1; i < rows.size(); ++i) {
      ASSERT_LT(rows[i - 1], rows[i]) << "key " << key << ": row " << rows[i] << " first arrived after row "
                                      << rows[i - 1];
    }
  }
}

}  // namespace outflow::agent_tests
