// The operator through crashes: SIGKILLed in the middle of reconciling 50
// pipelines applied at once (twice), and a leader killed while a standby
// waits. Every pipeline must converge, and each must own exactly one of each
// object the operator makes for it (no duplicates left by a half-finished
// reconcile, nothing orphaned), with its topics on the broker.
// Kills operator processes and is timing-sensitive: a *ChaosTest suite, run
// alone with the outage tests.

#include "operator/operator_fixture.h"
#include "testenv.h"

#include <cstdio>
#include <map>
#include <set>

namespace outflow::operator_tests {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kPipelines = 50;

json topic(const std::string& name) { return {{"name", name}, {"partitions", 1}, {"replicationFactor", 1}}; }
double metric(int port, const std::string& name) { return testenv::metric_value(http_get(port, "/metrics").second, name); }
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

class OperatorChaosTest : public OperatorTest {
 protected:
  // Creates kPipelines pipelines of two topics each, one request after another.
  void apply_all() {
    for (int i = 0; i < kPipelines; ++i) {
      const auto name = "chaos-" + std::to_string(i);
      const auto a = unique_topic("chaos-a"), b = unique_topic("chaos-b");
      topics_[name] = {a, b};
      apply(pipeline(name, json::array({topic(a), topic(b)})));
    }
  }

  // Pipelines whose Ready condition is True for their current generation.
  int ready() {
    int count = 0;
    // Held in a variable: a range-for over a member of a temporary dangles.
    const auto list = api_.list(kube::kinds::event_pipelines(), ns_);
    for (const auto& item : list.at("items")) {
      const auto generation = item["metadata"].value("generation", 0);
      if (item.value("status", json::object()).value("observedGeneration", -1) != generation) continue;
      const auto c = condition(item, "Ready");
      if (c && c->value("status", "") == "True") ++count;
    }
    return count;
  }

  // Deployments the operator made so far: proof that it is in the middle of
  // the work (it applies a pipeline's objects before reporting it Ready).
  std::size_t deployments() { return api_.list(kube::kinds::deployments(), ns_).at("items").size(); }

  // Everything wrong with the objects in the namespace: per pipeline exactly
  // one ServiceAccount, Role, RoleBinding, ConfigMap, Service and Deployment,
  // each with a single controller reference to that pipeline; no object of
  // the operator's owned by anything else; every topic on the broker.
  std::vector<std::string> ownership_problems() {
    std::map<std::string, std::string> pipelines;  // uid -> name
    const auto pipeline_list = api_.list(kube::kinds::event_pipelines(), ns_);
    for (const auto& item : pipeline_list.at("items")) {
      pipelines[item["metadata"].value("uid", "")] = item["metadata"].value("name", "");
    }
    std::vector<std::string> problems;
    if (pipelines.size() != static_cast<std::size_t>(kPipelines)) {
      problems.push_back(std::to_string(pipelines.size()) + " pipelines exist");
    }
    for (const auto& kind : {kube::kinds::service_accounts(), kube::kinds::roles(), kube::kinds::role_bindings(),
                             kube::kinds::config_maps(), kube::kinds::services(), kube::kinds::deployments()}) {
      std::map<std::string, int> per_pipeline;
      const auto list = api_.list(kind, ns_);
      for (const auto& item : list.at("items")) {
        const auto& meta = item["metadata"];
        const auto what = kind.plural + "/" + meta.value("name", "");
        const bool ours = meta.value("labels", json::object()).value("app.kubernetes.io/managed-by", "") ==
                          "outflow-operator";
        std::vector<json> owners;
        for (const auto& ref : meta.value("ownerReferences", json::array())) {
          if (ref.value("kind", "") == "EventPipeline") owners.push_back(ref);
        }
        if (!ours && owners.empty()) continue;  // e.g. the namespace's default ServiceAccount
        if (owners.size() != 1) {
          problems.push_back(what + " has " + std::to_string(owners.size()) + " EventPipeline owners");
          continue;
        }
        const auto uid = owners[0].value("uid", "");
        const auto owner = pipelines.find(uid);
        if (owner == pipelines.end()) {
          problems.push_back(what + " is orphaned: its owner " + owners[0].value("name", "") + " (" + uid +
                             ") is no live pipeline");
        } else if (!owners[0].value("controller", false)) {
          problems.push_back(what + " is not controlled by " + owner->second);
        } else {
          ++per_pipeline[owner->second];
        }
      }
      for (const auto& [uid, name] : pipelines) {
        const int n = per_pipeline.count(name) ? per_pipeline.at(name) : 0;
        if (n != 1) problems.push_back(name + " owns " + std::to_string(n) + " " + kind.plural);
      }
    }
    std::vector<std::string> all_topics;
    for (const auto& [name, pair] : topics_) all_topics.insert(all_topics.end(), pair.begin(), pair.end());
    const auto described = describe(all_topics);
    for (const auto& t : all_topics) {
      const auto it = described.find(t);
      if (it == described.end() || it->second.partitions != 1) problems.push_back("topic " + t + " missing");
    }
    return problems;
  }

  void expect_converged_and_owned(std::chrono::milliseconds timeout) {
    const auto start = Clock::now();
    ASSERT_TRUE(eventually([&] { return ready() == kPipelines; }, timeout, 500ms))
        << ready() << " of " << kPipelines << " pipelines Ready";
    std::printf("all %d pipelines Ready %.1f s later\n", kPipelines, seconds_since(start));
    const auto problems = ownership_problems();
    EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
  }

  std::map<std::string, std::vector<std::string>> topics_;
};

TEST_F(OperatorChaosTest, AnOperatorKilledMidReconcileOfFiftyPipelinesConvergesWithNoDuplicateOrOrphanObjects) {
  auto* op = &start_operator();
  ASSERT_TRUE(eventually([&] { return http_get(op->health_port(), "/readyz").first == 200; }, 30s)) << op->log();
  apply_all();
  const auto started = Clock::now();
  // First kill: as soon as the first pipeline's objects exist.
  ASSERT_TRUE(eventually([&] { return deployments() > 0; }, 60s)) << op->log();
  int ready_at_kill = ready();
  op->kill();
  operators_.clear();  // killed: nothing left to stop
  std::printf("operator SIGKILLed %.1f s into the work: %zu deployments, %d of %d pipelines Ready\n",
              seconds_since(started), deployments(), ready_at_kill, kPipelines);
  EXPECT_LT(ready_at_kill, kPipelines) << "the kill landed after the work, not in the middle of it";
  op = &start_operator();
  // Second kill: about half way.
  ASSERT_TRUE(eventually([&] { return ready() >= kPipelines / 2; }, 120s)) << op->log();
  ready_at_kill = ready();
  op->kill();
  operators_.clear();
  std::printf("operator SIGKILLed again: %zu deployments, %d of %d pipelines Ready\n", deployments(), ready_at_kill,
              kPipelines);
  op = &start_operator();
  expect_converged_and_owned(180s);
}

TEST_F(OperatorChaosTest, TheStandbyTakesOverFromAKilledLeaderAndFinishesFiftyPipelines) {
  // The default election timing (lease 15 s, renew deadline 10 s, retry 2 s).
  const std::vector<std::string> election{"--leader-elect", "--leader-election-namespace=" + ns_};
  auto& leader = start_operator(election);
  ASSERT_TRUE(eventually([&] { return metric(leader.metrics_port(), "outflow_operator_leader") == 1; }, 30s))
      << leader.log();
  auto& standby = start_operator(election);
  ASSERT_TRUE(eventually([&] { return http_get(standby.health_port(), "/readyz").first == 200; }, 30s))
      << standby.log();
  EXPECT_EQ(metric(standby.metrics_port(), "outflow_operator_leader"), 0) << "one leader at a time";

  apply_all();
  ASSERT_TRUE(eventually([&] { return deployments() > 0; }, 60s)) << leader.log();
  const int ready_at_kill = ready();
  leader.kill();  // no release: the standby waits for the lease to expire
  const auto killed = Clock::now();
  operators_.erase(operators_.begin());  // the leader, gone (the standby lives on the heap)
  std::printf("leader SIGKILLed mid-reconcile: %zu deployments, %d of %d pipelines Ready\n", deployments(),
              ready_at_kill, kPipelines);
  EXPECT_LT(ready_at_kill, kPipelines) << "the kill landed after the work, not in the middle of it";
  ASSERT_TRUE(eventually([&] { return metric(standby.metrics_port(), "outflow_operator_leader") == 1; }, 40s, 50ms))
      << standby.log();
  const double takeover = seconds_since(killed);
  std::printf("failover: the standby leads %.2f s after the leader was killed\n", takeover);
  // The lease (15 s) runs from the dead leader's last renewal, at most one
  // retry period (2 s) before the kill; the standby tries every 2 s (with
  // jitter): the takeover comes within the lease duration plus a retry.
  EXPECT_LE(takeover, 15.0 + 2.4);
  expect_converged_and_owned(180s);
  std::printf("failover: all pipelines Ready %.1f s after the leader was killed\n", seconds_since(killed));
}

}  // namespace
}  // namespace outflow::operator_tests
