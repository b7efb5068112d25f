#include "operator_fixture.h"

#include "common/kafka/client_config.h"
#include "common/kube/errors.h"
#include "common/kube/resource.h"
#include "testenv.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace outflow::operator_tests {
namespace {

std::string base64(const std::string& in) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += {table[(v >> 18) & 63], table[(v >> 12) & 63], table[(v >> 6) & 63], table[v & 63]};
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {table[(v >> 18) & 63], table[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {table[(v >> 18) & 63], table[(v >> 12) & 63], table[(v >> 6) & 63], '='};
  }
  return out;
}

}  // namespace

OperatorProcess::OperatorProcess(std::vector<std::string> args, const std::string& kubeconfig)
    : metrics_port_(testenv::free_port()), health_port_(testenv::free_port()) {
  // OUTFLOW_OPERATOR_BIN runs another build (a baseline, to see a test fail).
  const char* other_build = std::getenv("OUTFLOW_OPERATOR_BIN");
  std::vector<std::string> argv{other_build != nullptr ? other_build : OUTFLOW_OPERATOR_BIN,
                                "--kubeconfig=" + (kubeconfig.empty() ? testenv::require("KUBECONFIG") : kubeconfig),
                                "--metrics-addr=127.0.0.1:" + std::to_string(metrics_port_),
                                "--health-addr=127.0.0.1:" + std::to_string(health_port_),
                                "--log-level=debug"};
  argv.insert(argv.end(), args.begin(), args.end());
  process_ = std::make_unique<testenv::ChildProcess>(std::move(argv));
}

std::vector<std::string> operator_args(const std::string& ns, std::vector<std::string> extra_args) {
  std::vector<std::string> args{"--namespaces=" + ns, "--resync-period=3s", "--agent-image=outflow-agent:test"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return args;
}

void install_prometheus_rule_crd(kube::ApiClient& api) {
  const json crd = {
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", "prometheusrules.monitoring.coreos.com"}}},
      {"spec",
       {{"group", "monitoring.coreos.com"},
        {"scope", "Namespaced"},
        {"names", {{"plural", "prometheusrules"}, {"singular", "prometheusrule"}, {"kind", "PrometheusRule"},
                   {"listKind", "PrometheusRuleList"}}},
        {"versions",
         {{{"name", "v1"},
           {"served", true},
           {"storage", true},
           {"schema", {{"openAPIV3Schema", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}}}}}};
  api.server_side_apply(kube::kinds::custom_resource_definitions(), "", "prometheusrules.monitoring.coreos.com", crd,
                        "outflow-tests", true);
  ASSERT_TRUE(eventually(
      [&] {
        try {
          api.list(kube::kinds::prometheus_rules(), "default");
          return true;
        } catch (const kube::ApiError&) {
          return false;
        }
      },
      30s));
}

OperatorTest::OperatorTest()
    : rest_(testenv::admin_client()),
      api_(rest_),
      bootstrap_(testenv::require("OUTFLOW_TEST_KAFKA_PLAINTEXT")) {
  testenv::apply_crd_and_wait_established(rest_);
  namespace_ = std::make_unique<testenv::ScopedNamespace>(rest_, "op");
  ns_ = namespace_->name();
  kafka::ConnectionSettings settings;
  settings.bootstrap_servers = {bootstrap_};
  kafka_ = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf(kafka::client_properties(settings)));
  // Every pipeline() names this Secret for its outbox; its absence is tested
  // on its own.
  create_secret("orders-db", {{"url", "postgresql://outflow@127.0.0.1/orders"}});
}

OperatorTest::~OperatorTest() {
  for (auto& op : operators_) {
    const int code = op->terminate();
    EXPECT_EQ(code, 0) << "the operator did not stop cleanly on SIGTERM";
    if (::testing::Test::HasFailure()) {
      const auto text = op->log();
      std::cerr << "---- operator log (last 12000 bytes) ----\n"
                << text.substr(text.size() > 12000 ? text.size() - 12000 : 0) << "\n----\n";
    }
  }
}

OperatorProcess& OperatorTest::start_operator(std::vector<std::string> extra_args) {
  operators_.push_back(std::make_unique<OperatorProcess>(operator_args(ns_, std::move(extra_args))));
  return *operators_.back();
}

json OperatorTest::pipeline(const std::string& name, const json& topics) const {
  return {{"apiVersion", "outflow.dev/v1alpha1"},
          {"kind", "EventPipeline"},
          {"metadata", {{"name", name}, {"namespace", ns_}}},
          {"spec",
           {{"kafka", {{"bootstrapServers", {bootstrap_}}, {"requestTimeoutMs", 3000}, {"connectTimeoutMs", 2000}}},
            {"topics", topics},
            {"outbox", {{"databaseSecretRef", {{"name", "orders-db"}, {"key", "url"}}},
                        {"defaultTopic", topics.at(0).at("name")}}},
            {"agent", {{"replicas", 0}}},
            {"alerts", {{"defaults", false}}}}}};
}

json OperatorTest::apply(const json& object) {
  const std::string name = object.at("metadata").at("name");
  if (api_.get_if_exists(kube::kinds::event_pipelines(), ns_, name)) {
    // A JSON patch that swaps the spec whole, not a GET then PUT: the
    // operator writes the status in between, and a PUT carrying the older
    // resourceVersion would fail with 409 (the flake of QuietEventsTest and
    // the partition-increase tests).
    const json replace_spec = json::array({{{"op", "replace"}, {"path", "/spec"}, {"value", object.at("spec")}}});
    return api_.json_patch(kube::kinds::event_pipelines(), ns_, name, replace_spec);
  }
  return api_.create(kube::kinds::event_pipelines(), ns_, object);
}

json OperatorTest::get(const std::string& name) { return api_.get(kube::kinds::event_pipelines(), ns_, name); }

std::optional<json> OperatorTest::condition(const json& object, const std::string& type) const {
  if (!object.contains("status")) return std::nullopt;
  for (const auto& c : object["status"].value("conditions", json::array())) {
    if (c.value("type", "") == type) return c;
  }
  return std::nullopt;
}

json OperatorTest::wait_for_condition(const std::string& name, const std::string& type, const std::string& status,
                                      const std::string& reason, std::chrono::milliseconds timeout) {
  json last;
  const bool ok = eventually(
      [&] {
        last = get(name);
        const auto c = condition(last, type);
        const auto generation = last["metadata"].value("generation", 0);
        return c && c->value("status", "") == status && (reason.empty() || c->value("reason", "") == reason) &&
               last["status"].value("observedGeneration", -1) == generation;
      },
      timeout);
  EXPECT_TRUE(ok) << "condition " << type << "=" << status << (reason.empty() ? "" : " (" + reason + ")")
                  << " not reached; last status: " << last.value("status", json::object()).dump(2);
  return last;
}

std::map<std::string, kafka::DescribedTopic> OperatorTest::describe(const std::vector<std::string>& topics) {
  return kafka::describe_topics(kafka_.get(), topics, 10s);
}

std::string OperatorTest::unique_topic(const std::string& prefix) const { return testenv::unique_name(prefix); }

void OperatorTest::create_secret(const std::string& name, const std::map<std::string, std::string>& data) {
  json encoded = json::object();
  for (const auto& [k, v] : data) encoded[k] = base64(v);
  api_.create(kube::kinds::secrets(), ns_,
              {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", name}}}, {"data", encoded}});
}

}  // namespace outflow::operator_tests
