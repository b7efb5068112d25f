// Trouble the operator must ride out: the Kafka broker going away and coming
// back, and the leader process dying. These stop shared parts of the test
// environment, so their binary runs alone (RUN_SERIAL).

#include "operator_fixture.h"

#include "testenv.h"

#include <cstdio>
#include <map>
#include <thread>
#include <vector>

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

// Failover with the default election timing: how long a change made as the
// leader goes away waits for its reconcile. The standby's caches are synced
// before it leads, so the first reconcile follows the takeover at once.
TEST_F(OutageTest, AWarmStandbyReconcilesAChangeSoonAfterTheLeaderGoes) {
  const std::vector<std::string> election{"--leader-elect", "--leader-election-namespace=" + ns_};
  const auto failover = [&](bool hard) {
    auto& leader = start_operator(election);
    EXPECT_TRUE(eventually([&] { return metric(leader.metrics_port(), "outflow_operator_leader") == 1; }, 30s));
    auto& standby = start_operator(election);
    EXPECT_TRUE(eventually([&] { return http_get(standby.health_port(), "/readyz").first == 200; }, 20s));
    const std::string name = hard ? "warm-kill" : "warm-term";
    const auto first_topic = topic(unique_topic(name));
    apply(pipeline(name, json::array({first_topic})));
    wait_for_condition(name, "Ready", "True");
    const auto gone_at = std::chrono::steady_clock::now();
    if (hard) {
      leader.kill();  // no release: the standby waits for the lease to expire
    } else {
      EXPECT_EQ(leader.terminate(), 0);  // a rolling update: the lease is handed back
    }
    apply(pipeline(name, json::array({first_topic, topic(unique_topic(name))})));
    wait_for_condition(name, "TopicsReady", "True", "", 60s);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - gone_at).count();
    std::printf("leader %s -> change reconciled by the standby: %.2f s\n", hard ? "killed" : "stopped (SIGTERM)",
                seconds);
    operators_.erase(operators_.begin());  // the old leader: already gone
    return seconds;
  };
  // Handed back: one retry period of the standby, then a reconcile.
  EXPECT_LE(failover(false), 5.0);
  operators_.front()->terminate();
  operators_.clear();
  // Killed: the lease must expire first (a lease duration from the last
  // renewal the standby saw, which it sees up to one retry period late, plus
  // one retry period to notice), then a reconcile; issue 13 asks for 15 s in
  // all, so the defaults have to fit that.
  EXPECT_LE(failover(true), 15.0);
}

// What the API server holds in a namespace that only the first operator
// writes to: every Event and EventPipeline by name, with its resourceVersion.
// A new name or a new version between two snapshots is a write.
std::map<std::string, std::string> written_objects(kube::ApiClient& api, const std::string& ns) {
  std::map<std::string, std::string> versions;
  for (const auto& [kind, label] : {std::pair{kube::kinds::events(), "Event/"},
                                    std::pair{kube::kinds::event_pipelines(), "EventPipeline/"}}) {
    const json list = api.list(kind, ns);
    for (const auto& item : list.at("items")) {
      versions[label + item.at("metadata").value("name", "")] = item.at("metadata").value("resourceVersion", "");
    }
  }
  return versions;
}

std::vector<std::string> writes_between(const std::map<std::string, std::string>& before,
                                        const std::map<std::string, std::string>& after) {
  std::vector<std::string> writes;
  for (const auto& [name, version] : after) {
    const auto it = before.find(name);
    if (it == before.end() || it->second != version) writes.push_back(name);
  }
  return writes;
}

// A leader frozen (SIGSTOP) past its lease, in the middle of a reconcile, while
// another replica takes over. When it resumes it must write nothing: not the
// rest of the reconcile it was in, not the change it missed. It exits (so its
// pod restarts as a standby), as a controller-runtime manager does.
TEST_F(OutageTest, ADeposedLeaderWritesNothingAfterItsLeaseExpired) {
  const std::vector<std::string> election{"--leader-elect", "--leader-election-namespace=" + ns_,
                                          "--leader-election-lease-duration=3s",
                                          "--leader-election-renew-deadline=2s",
                                          "--leader-election-retry-period=500ms"};
  auto& first = start_operator(election);
  ASSERT_TRUE(eventually([&] { return metric(first.metrics_port(), "outflow_operator_leader") == 1; }, 20s))
      << first.log();
  // The successor watches another namespace: every write in ns_ from here on
  // can only come from the first operator.
  testenv::ScopedNamespace elsewhere(rest_, "op-other");
  auto args = election;
  args.insert(args.begin(), {"--namespaces=" + elsewhere.name(), "--resync-period=3s",
                             "--agent-image=outflow-agent:test"});
  operators_.push_back(std::make_unique<OperatorProcess>(args));
  auto& second = *operators_.back();
  ASSERT_TRUE(eventually([&] { return http_get(second.health_port(), "/readyz").first == 200; }, 20s));

  // The leader starts a reconcile that hangs in a Kafka call (the broker
  // answers nothing) and is frozen in the middle of it.
  testenv::BrokerFrozen broker_frozen;
  auto p = pipeline("fenced", json::array({topic(unique_topic("fenced"))}));
  p["spec"]["topicDeletionPolicy"] = "Delete";  // its finalizer shows the reconcile has begun
  p["spec"]["kafka"]["requestTimeoutMs"] = 15000;
  apply(p);
  ASSERT_TRUE(eventually([&] { return !get("fenced")["metadata"].value("finalizers", json::array()).empty(); }, 20s))
      << first.log();
  first.freeze();
  struct Thaw {
    OperatorProcess& op;
    ~Thaw() { op.thaw(); }
  } thaw_at_exit{first};
  const auto frozen_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return metric(second.metrics_port(), "outflow_operator_leader") == 1; }, 20s))
      << second.log();
  std::printf("successor leads %.2f s after the leader froze\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - frozen_at).count());

  // A change the deposed leader would act on, made while it cannot see it.
  apply(pipeline("missed", json::array({topic(unique_topic("missed"))})));
  const auto before = written_objects(api_, ns_);
  first.thaw();
  broker_frozen.thaw();  // its Kafka call may now even succeed: it must still not write

  // It stops at once: no lease, no work. Give a deposed leader that keeps
  // going the time its Kafka call needs to return and its reconcile to go on.
  const bool exited = eventually([&] { return !first.running(); }, 25s);
  if (!exited) std::this_thread::sleep_for(2s);  // let a lingering process show what it writes
  const auto after = written_objects(api_, ns_);
  const auto writes = writes_between(before, after);
  std::printf("objects in the namespace: %zu before the thaw, %zu after\n", before.size(), after.size());
  EXPECT_TRUE(writes.empty()) << "written by the deposed leader after its lease expired: "
                              << ::testing::PrintToString(writes) << "\n" << first.log();
  EXPECT_TRUE(exited) << "the deposed leader kept running after losing its lease";
  if (exited) {
    EXPECT_NE(first.terminate(), 0) << "a lost lease is a failure exit, so the pod restarts as a standby";
    operators_.erase(operators_.begin());  // exited: nothing to terminate
  }
  EXPECT_EQ(metric(second.metrics_port(), "outflow_operator_leader"), 1) << "the successor still leads";
}

}  // namespace
}  // namespace outflow::operator_tests
