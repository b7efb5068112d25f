#pragma once

// The fixture of the tests on the test environment's real node: a namespace
// of its own, a Helm release name, kubectl and helm as a user types them, an
// EventPipeline with its Secret, and what "its agents are running" means.
// Needs the node (`hack/testenv.sh up` starts it); without it every test
// using this fails.

#include "e2e/pod_ready.h"
#include "e2e/shell.h"
#include "kube_helpers.h"
#include "testenv.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace outflow::node_e2e {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

using e2e::shell;
using e2e::ShellResult;
using e2e::shell_quoted;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Figures the issue asks for, printed so a run's log holds them.
inline void figure(const std::string& what, const std::string& value) {
  std::cout << "[figure] " << what << ": " << value << std::endl;
}

// What the consumer saw of the rows written: every row once at least, the
// first deliveries of each key in the order the rows were written.
struct Delivery {
  std::size_t lost = 0;
  std::size_t duplicates = 0;
  std::size_t out_of_order = 0;
};

// Payloads are "<i>" (OutboxDb::insert_many), keys "k<i % keys>".
inline Delivery check_delivery(const std::vector<testenv::Consumed>& got, int first, int count) {
  Delivery d;
  std::map<int, int> seen;
  std::map<std::string, int> last_first_delivery;
  for (const auto& m : got) {
    const int i = std::stoi(m.value);
    if (i < first || i >= first + count) continue;
    if (seen[i]++ > 0) {
      ++d.duplicates;
      continue;
    }
    const auto key = m.key.value_or("");
    auto [it, fresh] = last_first_delivery.emplace(key, i);
    if (!fresh) {
      if (i < it->second) ++d.out_of_order;
      it->second = i;
    }
  }
  for (int i = first; i < first + count; ++i) {
    if (seen.count(i) == 0) ++d.lost;
  }
  return d;
}

class NodeE2eTest : public ::testing::Test {
 protected:
  NodeE2eTest()
      : node_ip_(testenv::require("OUTFLOW_TEST_NODE_IP")),
        bin_(testenv::require("OUTFLOW_TEST_KUBE_BIN")),
        rest_(testenv::admin_client()) {
    testenv::apply_crd_and_wait_established(rest_);
    namespace_ = std::make_unique<testenv::ScopedNamespace>(rest_, "e2e-node");
    ns_ = namespace_->name();
    release_ = testenv::unique_name("rel");
  }

  ~NodeE2eTest() override {
    if (HasFailure()) {
      std::cerr << kubectl("get pods -o wide").output << kubectl("get events --sort-by=.lastTimestamp").output
                << kubectl("get evp -o yaml").output
                << kubectl("logs --tail=60 -l app.kubernetes.io/name=outflow-operator --prefix").output
                << kubectl("logs --tail=60 -l app.kubernetes.io/name=outflow-agent --prefix").output;
    }
    shell(bin_ + "/helm uninstall " + release_ + " -n " + ns_ + " --wait --timeout 60s");
    // With the operator gone nobody would remove the pipelines' finalizers,
    // and the namespace would never go.
    const auto names = kubectl("get evp -o name");
    std::istringstream lines(names.output);
    for (std::string name; std::getline(lines, name);) {
      if (name.empty()) continue;
      kubectl("patch " + name + " --type=merge -p '{\"metadata\":{\"finalizers\":null}}'");
    }
  }

  ShellResult kubectl(const std::string& args) { return shell(bin_ + "/kubectl -n " + ns_ + " " + args); }

  json kubectl_json(const std::string& args) {
    const auto r = kubectl(args + " -o json");
    if (r.exit_code != 0) throw std::runtime_error("kubectl " + args + ": " + r.output);
    return json::parse(r.output);
  }

  // `helm VERB` of this test's release from the chart in the source tree.
  ShellResult helm(const std::string& verb, const std::string& extra = {}) {
    return helm_chart(verb, testenv::source_path("charts/outflow"), extra);
  }

  // The same from `chart` (a directory or a packaged .tgz).
  ShellResult helm_chart(const std::string& verb, const std::string& chart, const std::string& extra = {}) {
    return shell(bin_ + "/helm " + verb + " " + release_ + " " + chart + " -n " + ns_ + " --set watchNamespaces={" +
                 ns_ + "} --wait --timeout 180s " + extra);
  }

  void apply(const json& object) {
    const auto path = testenv::unique_name("/tmp/outflow-e2e-node") + ".json";
    std::ofstream(path) << object.dump();
    const auto r = kubectl("apply -f " + path);
    std::filesystem::remove(path);
    if (r.exit_code != 0) throw std::runtime_error("kubectl apply: " + r.output);
  }

  json pipeline(const std::string& name, const std::string& topic, const std::string& table, int replicas) const {
    return {{"apiVersion", "outflow.dev/v1alpha1"},
            {"kind", "EventPipeline"},
            {"metadata", {{"name", name}, {"namespace", ns_}}},
            {"spec",
             {{"kafka", {{"bootstrapServers", {testenv::require("OUTFLOW_TEST_KAFKA_PODS")}}}},
              {"topics", {{{"name", topic}, {"partitions", 3}, {"replicationFactor", 1}}}},
              {"outbox", {{"databaseSecretRef", {{"name", name + "-db"}}}, {"table", table}, {"defaultTopic", topic}}},
              {"deadLetter", {{"topic", topic + ".dlq"}, {"partitions", 1}, {"replicationFactor", 1}}},
              {"agent",
               {{"replicas", replicas},
                {"resources", {{"requests", {{"cpu", "50m"}, {"memory", "64Mi"}}}, {"limits", {{"memory", "256Mi"}}}}}}}}}};
  }

  void create_db_secret(const std::string& pipeline_name, const std::string& url) {
    const auto r = kubectl("create secret generic " + pipeline_name + "-db --from-literal=url=" + shell_quoted(url) +
                           " --dry-run=client -o yaml | " + bin_ + "/kubectl -n " + ns_ + " apply -f -");
    if (r.exit_code != 0) throw std::runtime_error("secret: " + r.output);
  }

  std::vector<json> pods(const std::string& selector) {
    std::vector<json> out;
    const auto list = kubectl_json("get pods -l " + selector);
    for (const auto& p : list["items"]) {
      if (!p["metadata"].contains("deletionTimestamp")) out.push_back(p);
    }
    return out;
  }

  static bool ready(const json& pod) { return pod_ready(pod); }

  // `replicas` agent pods (and no others), Running and Ready, and the
  // pipeline Ready with them.
  bool agents_ready(const std::string& name, std::size_t replicas) {
    const auto agents = kubectl("get pods -l app.kubernetes.io/instance=" + name +
                                ",app.kubernetes.io/name=outflow-agent -o json");
    if (agents.exit_code != 0) return false;
    const auto items = json::parse(agents.output)["items"];
    if (items.size() != replicas) return false;
    for (const auto& p : items) {
      if (p["metadata"].contains("deletionTimestamp") || p["status"].value("phase", "") != "Running" || !ready(p)) {
        return false;
      }
    }
    const auto evp = kubectl_json("get evp " + name);
    for (const auto& c : evp["status"].value("conditions", json::array())) {
      if (c["type"] == "Ready") {
        return c["status"] == "True" &&
               evp["status"].value("summary", json::object()).value("agents", "") ==
                   fmt::format("{}/{}", replicas, replicas);
      }
    }
    return false;
  }

  // Host pid of the agent process of pod `pod` (found by the environment
  // the kubelet gave it: POD_NAME and POD_NAMESPACE).
  int agent_pid(const std::string& pod) {
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const auto name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream environ(entry.path() / "environ");
      std::string text((std::istreambuf_iterator<char>(environ)), std::istreambuf_iterator<char>());
      if (text.find(std::string("POD_NAME=") + pod + '\0') == std::string::npos ||
          text.find(std::string("POD_NAMESPACE=") + ns_ + '\0') == std::string::npos) {
        continue;
      }
      std::ifstream comm(entry.path() / "comm");
      std::string command;
      std::getline(comm, command);
      if (command == "outflow-agent") return std::stoi(name);
    }
    return -1;
  }

  std::string node_ip_;
  std::string bin_;
  kube::RestClient rest_;
  std::unique_ptr<testenv::ScopedNamespace> namespace_;
  std::string ns_;
  std::string release_;
};

}  // namespace outflow::node_e2e
