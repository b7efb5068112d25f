// End to end through the front door, on the test environment's real node:
// `helm install` of charts/outflow runs the operator from its image, `kubectl
// apply` of an EventPipeline makes it run agent pods from theirs, and rows
// inserted into the outbox reach Kafka, read back by an independent consumer.
// Then the faults pods meet in a cluster, the pod spec as the kubelet
// enforced it (read from the running processes), the agent's token used from
// inside its pod, and `helm upgrade`/`helm uninstall`. Needs the node
// (`hack/testenv.sh up` starts it); without it every test here fails.

#include "agent/outbox_fixture.h"
#include "e2e/node_fixture.h"
#include "child_process.h"
#include "kube_helpers.h"
#include "testenv.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace outflow::node_e2e {
namespace {

using namespace std::chrono_literals;
using testenv::eventually;

// A writer that keeps inserting rows (20 keys) until stopped.
class Stream {
 public:
  Stream(testenv::OutboxDb& db, int first) : db_(db), next_(first), first_(first) {
    thread_ = std::thread([this] {
      while (!stop_) {
        db_.insert_many(10, 20, 0, next_);
        next_ += 10;
        std::this_thread::sleep_for(50ms);
      }
    });
  }
  ~Stream() { stop(); }
  // Returns the number of rows written.
  int stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return next_ - first_;
  }
  int next() const { return next_; }

 private:
  testenv::OutboxDb& db_;
  std::atomic<int> next_;
  int first_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(NodeE2eTest, HelmInstalledOperatorRunsAPipelineThroughRealPods) {
  // 1. helm install: two operator replicas from the image, Ready through
  // their probes, with the chart's RBAC only.
  auto t0 = Clock::now();
  const auto install = helm("install");
  ASSERT_EQ(install.exit_code, 0) << install.output;
  const auto operator_selector = "app.kubernetes.io/instance=" + release_ + ",app.kubernetes.io/name=outflow-operator";
  std::vector<json> operators;
  ASSERT_TRUE(eventually(
      [&] {
        operators = pods(operator_selector);
        return operators.size() == 2 && ready(operators[0]) && ready(operators[1]);
      },
      120s, 500ms))
      << operators.size() << " operator pods";
  figure("helm install to 2 operator pods Ready", fmt::format("{:.1f} s", seconds_since(t0)));
  for (const auto& p : operators) {
    EXPECT_EQ(p["spec"]["containers"][0]["image"], "ghcr.io/outflow-dev/outflow-operator:0.1.0");
  }

  // 2. kubectl apply of a pipeline: topics, agent pods Running and Ready,
  // the pipeline Ready with its breakers.
  testenv::OutboxDb db;
  const auto topic = testenv::unique_name("e2e-node");
  create_db_secret("orders", testenv::require("OUTFLOW_TEST_PG_POD_URL"));
  t0 = Clock::now();
  apply(pipeline("orders", topic, db.table(), 2));
  ASSERT_TRUE(eventually([&] { return agents_ready("orders", 2); }, 180s, 500ms));
  figure("kubectl apply to Ready with 2 running agents", fmt::format("{:.1f} s", seconds_since(t0)));
  const auto table = kubectl("get evp orders");
  EXPECT_NE(table.output.find("BREAKERS"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("True"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("Closed"), std::string::npos) << table.output;

  // Rows inserted arrive in Kafka, seen by an independent consumer.
  db.insert_many(200, 20);
  auto got = testenv::read_topic(topic, 200, 60s);
  auto d = check_delivery(got, 0, 200);
  EXPECT_EQ(d.lost, 0u);
  EXPECT_EQ(d.out_of_order, 0u);
  EXPECT_EQ(d.duplicates, 0u);
  // Each agent reports into the pipeline's status with its own token.
  EXPECT_TRUE(eventually(
      [&] {
        int published = 0;
        const auto evp = kubectl_json("get evp orders");
        for (const auto& e : evp["status"].value("agents", json::array())) published += e.value("publishedTotal", 0);
        return published == 200;
      },
      30s, 500ms))
      << kubectl("get evp orders -o yaml").output;

  // 3. The pod spec, and what the kubelet made of it in the running process.
  auto agents = pods("app.kubernetes.io/instance=orders,app.kubernetes.io/name=outflow-agent");
  ASSERT_EQ(agents.size(), 2u);
  for (const auto& p : agents) {
    const auto& spec = p["spec"];
    const auto& c = spec["containers"][0];
    EXPECT_EQ(spec["securityContext"]["runAsNonRoot"], true);
    EXPECT_EQ(spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
    EXPECT_EQ(c["securityContext"]["allowPrivilegeEscalation"], false);
    EXPECT_EQ(c["securityContext"]["capabilities"]["drop"], json::array({"ALL"}));
    EXPECT_FALSE(c["resources"].value("requests", json::object()).empty()) << c.dump();
    EXPECT_FALSE(c["resources"].value("limits", json::object()).empty()) << c.dump();

    const std::string name = p["metadata"]["name"];
    const int pid = agent_pid(name);
    ASSERT_GT(pid, 0) << "no outflow-agent process for pod " << name;
    std::ifstream status_file("/proc/" + std::to_string(pid) + "/status");
    std::map<std::string, std::string> status;
    for (std::string line; std::getline(status_file, line);) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      status[line.substr(0, colon)] = line.substr(line.find_first_not_of(" \t", colon + 1));
    }
    EXPECT_EQ(status["Uid"].substr(0, status["Uid"].find_first_of(" \t")), "65532") << name;
    EXPECT_EQ(status["CapEff"], "0000000000000000") << name;
    EXPECT_EQ(status["NoNewPrivs"], "1") << name;
    EXPECT_EQ(status["Seccomp"], "2") << name << ": not under a seccomp filter";
    std::ifstream mountinfo("/proc/" + std::to_string(pid) + "/mountinfo");
    bool root_read_only = false;
    for (std::string line; std::getline(mountinfo, line);) {
      std::istringstream fields(line);
      std::string id, parent, dev, root, mount_point, options;
      fields >> id >> parent >> dev >> root >> mount_point >> options;
      if (mount_point == "/") root_read_only = (options + ",").rfind("ro,", 0) == 0;
    }
    EXPECT_TRUE(root_read_only) << name << ": root filesystem is writable";
  }

  // The ServiceAccount token the pod got, used from inside the pod (its
  // network namespace, the "kubernetes" Service IP, the CA the kubelet
  // mounted): its own pipeline's status yes, another pipeline's no.
  create_db_secret("other", testenv::require("OUTFLOW_TEST_PG_POD_URL"));
  apply(pipeline("other", testenv::unique_name("e2e-node-other"), db.table(), 0));
  {
    const int pid = agent_pid(agents[0]["metadata"]["name"]);
    const auto root = "/proc/" + std::to_string(pid) + "/root/var/run/secrets/kubernetes.io/serviceaccount";
    const auto token = testenv::read_text(root + "/token");
    const auto from_pod = [&](const std::string& method, const std::string& path) {
      return shell(fmt::format(
          "nsenter --net=/proc/{}/ns/net curl -s -o /dev/null -w '%{{http_code}}' --max-time 10 --cacert {}/ca.crt "
          "-H {} -X {} -H 'Content-Type: application/merge-patch+json' --data '{{\"status\":{{}}}}' "
          "https://kubernetes.default.svc/apis/outflow.dev/v1alpha1/namespaces/{}/eventpipelines/{} "
          "--resolve kubernetes.default.svc:443:{}",
          pid, root, shell_quoted("Authorization: Bearer " + token), method, ns_, path,
          testenv::require("OUTFLOW_TEST_KUBERNETES_SERVICE_IP")));
    };
    EXPECT_EQ(from_pod("GET", "orders/status").output, "200");
    EXPECT_EQ(from_pod("PATCH", "other/status").output, "403");
    EXPECT_EQ(from_pod("PATCH", "orders").output, "403");  // its own spec
  }

  // 4. The parked-letter command in the real pod.
  const auto parked = kubectl("exec deploy/orders-agent -- outflow-agent parked list");
  EXPECT_EQ(parked.exit_code, 0) << parked.output;

  // 5. Faults under a steady stream of rows.
  int first = 200;
  {
    Stream stream(db, first);
    std::this_thread::sleep_for(2s);

    // An agent pod killed outright.
    const std::string victim = agents[0]["metadata"]["name"];
    t0 = Clock::now();
    EXPECT_EQ(kubectl("delete pod " + victim + " --grace-period=0 --force").exit_code, 0);
    EXPECT_TRUE(eventually(
        [&] {
          const auto now = pods("app.kubernetes.io/instance=orders,app.kubernetes.io/name=outflow-agent");
          for (const auto& p : now) {
            if (p["metadata"]["name"] == victim) return false;
          }
          return agents_ready("orders", 2);
        },
        120s, 500ms));
    figure("force-deleted agent pod replaced, 2 agents Ready again", fmt::format("{:.1f} s", seconds_since(t0)));

    // A rolling restart: the database Secret changed.
    std::set<std::string> before;
    for (const auto& p : pods("app.kubernetes.io/instance=orders,app.kubernetes.io/name=outflow-agent")) {
      before.insert(p["metadata"]["name"]);
    }
    t0 = Clock::now();
    create_db_secret("orders", testenv::require("OUTFLOW_TEST_PG_POD_URL") + "?application_name=outflow-e2e");
    EXPECT_TRUE(eventually(
        [&] {
          const auto now = pods("app.kubernetes.io/instance=orders,app.kubernetes.io/name=outflow-agent");
          for (const auto& p : now) {
            if (before.count(p["metadata"]["name"])) return false;
          }
          return agents_ready("orders", 2);
        },
        180s, 500ms));
    figure("Secret change to 2 new agents Ready (rolling restart)", fmt::format("{:.1f} s", seconds_since(t0)));

    // The leader operator pod deleted: the other replica takes over.
    const auto lease = shell(bin_ + "/kubectl -n " + ns_ +
                          " get lease outflow-operator -o jsonpath='{.spec.holderIdentity}'").output;
    const auto leader = lease.substr(0, lease.find('_'));
    ASSERT_FALSE(leader.empty());
    t0 = Clock::now();
    EXPECT_EQ(kubectl("delete pod " + leader + " --wait=false").exit_code, 0);
    std::string new_leader;
    EXPECT_TRUE(eventually(
        [&] {
          const auto h = shell(bin_ + "/kubectl -n " + ns_ +
                            " get lease outflow-operator -o jsonpath='{.spec.holderIdentity}'").output;
          new_leader = h.substr(0, h.find('_'));
          return !new_leader.empty() && new_leader != leader;
        },
        60s, 200ms));
    figure("leader operator pod deleted to the other replica holding the lease",
           fmt::format("{:.1f} s ({} -> {})", seconds_since(t0), leader, new_leader));
    std::this_thread::sleep_for(2s);
    const int written = stream.stop();
    figure("rows written during the faults", std::to_string(written));

    ASSERT_TRUE(eventually([&] { return db.pending() == 0; }, 120s, 500ms)) << db.pending() << " rows pending";
    got = testenv::read_topic(topic, static_cast<std::size_t>(first + written), 60s);
    d = check_delivery(got, first, written);
    figure("faults: lost / duplicates / first deliveries out of key order",
           fmt::format("{} / {} / {}", d.lost, d.duplicates, d.out_of_order));
    EXPECT_EQ(d.lost, 0u);
    EXPECT_EQ(d.out_of_order, 0u);
    first += written;
  }

  // 6. A plain scale-down: SIGTERM drains, nothing is delivered twice.
  {
    const auto before_total = testenv::read_topic(topic, static_cast<std::size_t>(first), 30s).size();
    Stream stream(db, first);
    std::this_thread::sleep_for(2s);
    auto smaller = pipeline("orders", topic, db.table(), 1);
    apply(smaller);
    EXPECT_TRUE(eventually([&] { return agents_ready("orders", 1); }, 120s, 500ms));
    std::this_thread::sleep_for(1s);
    const int written = stream.stop();
    ASSERT_TRUE(eventually([&] { return db.pending() == 0; }, 60s, 500ms));
    got = testenv::read_topic(topic, before_total + static_cast<std::size_t>(written), 60s);
    d = check_delivery(got, first, written);
    figure("scale-down 2 -> 1: rows / lost / duplicates",
           fmt::format("{} / {} / {}", written, d.lost, d.duplicates));
    EXPECT_EQ(d.lost, 0u);
    EXPECT_EQ(d.duplicates, 0u);
    EXPECT_EQ(d.out_of_order, 0u);
  }

  // 7. helm upgrade with changed values rolls the operator only.
  const auto agent_before = pods("app.kubernetes.io/instance=orders,app.kubernetes.io/name=outflow-agent");
  ASSERT_EQ(agent_before.size(), 1u);
  const auto deployment_generation = kubectl_json("get deploy orders-agent")["metadata"]["generation"];
  const auto upgrade = helm("upgrade", "--set logLevel=debug");
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.output;
  // The operator rolled: two Ready pods, both with the new value.
  EXPECT_TRUE(eventually(
      [&] {
        const auto now = pods(operator_selector);
        if (now.size() != 2) return false;
        for (const auto& p : now) {
          const auto& args = p["spec"]["containers"][0]["args"];
          if (!ready(p) || std::find(args.begin(), args.end(), "--log-level=debug") == args.end()) return false;
        }
        return true;
      },
      120s, 500ms));
  std::this_thread::sleep_for(5s);  // give a wrongly rolling operator the time to touch the agents
  const auto agent_after = pods("app.kubernetes.io/instance=orders,app.kubernetes.io/name=outflow-agent");
  ASSERT_EQ(agent_after.size(), 1u);
  EXPECT_EQ(agent_after[0]["metadata"]["uid"], agent_before[0]["metadata"]["uid"]);
  EXPECT_EQ(kubectl_json("get deploy orders-agent")["metadata"]["generation"], deployment_generation);

  // 8. helm uninstall leaves pipelines, their agents, topics and data alone.
  const auto uninstall = shell(bin_ + "/helm uninstall " + release_ + " -n " + ns_ + " --wait --timeout 120s");
  ASSERT_EQ(uninstall.exit_code, 0) << uninstall.output;
  EXPECT_EQ(kubectl("get evp orders").exit_code, 0);
  EXPECT_EQ(kubectl("get deploy orders-agent").exit_code, 0);
  db.insert_many(10, 5, 0, first + 100000);
  EXPECT_TRUE(eventually([&] { return db.pending() == 0; }, 60s, 500ms)) << "agents stopped with the operator";
}

}  // namespace
}  // namespace outflow::node_e2e

namespace outflow::node_e2e {
namespace {

// Stops the shared broker: runs alone (hack/test.sh runs *OutageTest first).
class NodeE2eOutageTest : public NodeE2eTest {};

TEST_F(NodeE2eOutageTest, BrokerStoppedOpensTheAgentPodsBreakersAndTheBacklogDrainsWhenItReturns) {
  const auto install = helm("install");
  ASSERT_EQ(install.exit_code, 0) << install.output;
  testenv::OutboxDb db;
  const auto topic = testenv::unique_name("e2e-outage");
  create_db_secret("orders", testenv::require("OUTFLOW_TEST_PG_POD_URL"));
  auto object = pipeline("orders", topic, db.table(), 2);
  object["spec"]["kafka"]["requestTimeoutMs"] = 2000;
  object["spec"]["circuitBreaker"] = {{"failureRateThreshold", 50}, {"minimumCalls", 5}, {"windowSize", 10},
                                      {"openDurationMs", 2000}, {"halfOpenCalls", 2}};
  apply(object);
  ASSERT_TRUE(eventually([&] { return agents_ready("orders", 2); }, 180s, 500ms));
  const auto breakers = [&] {
    return kubectl_json("get evp orders")["status"].value("summary", json::object()).value("breakers", "");
  };

  int written = 0;
  {
    Stream stream(db, 0);
    std::this_thread::sleep_for(2s);
    testenv::PartStopped broker("kafka");
    auto t0 = Clock::now();
    EXPECT_TRUE(eventually([&] { return breakers().find("Open") != std::string::npos; }, 90s, 500ms))
        << breakers();
    figure("broker stopped to a breaker Open in the pipeline's status",
           fmt::format("{:.1f} s ({})", seconds_since(t0), breakers()));
    std::this_thread::sleep_for(3s);
    broker.restart();
    t0 = Clock::now();
    EXPECT_TRUE(eventually([&] { return breakers() == "2 Closed"; }, 120s, 500ms)) << breakers();
    figure("broker started to both breakers Closed", fmt::format("{:.1f} s", seconds_since(t0)));
    written = stream.stop();
    EXPECT_TRUE(eventually([&] { return db.pending() == 0; }, 120s, 500ms)) << db.pending() << " rows pending";
    figure("broker started to backlog drained", fmt::format("{:.1f} s", seconds_since(t0)));
  }
  const auto got = testenv::read_topic(topic, static_cast<std::size_t>(written), 60s);
  const auto d = check_delivery(got, 0, written);
  figure("broker outage: rows / lost / duplicates / first deliveries out of key order",
         fmt::format("{} / {} / {} / {}", written, d.lost, d.duplicates, d.out_of_order));
  EXPECT_EQ(d.lost, 0u);
  EXPECT_EQ(d.out_of_order, 0u);
}

}  // namespace
}  // namespace outflow::node_e2e
