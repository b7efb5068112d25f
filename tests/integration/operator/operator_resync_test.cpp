// A periodic resync costs what changed: with nothing changed it reads the
// informer caches only. At a thousand pipelines and the default 10-minute
// resync, a few uncached GETs per pipeline per resync are several requests a
// second to the API server for nothing.

#include "operator_fixture.h"

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

namespace outflow::operator_tests {
namespace {

// Requests the operator itself sent, as its own API client counts them
// (outflow_operator_api_requests_total), of one verb, on every resource but
// `except_resource`. The API server's counters would include every other
// client of the shared test cluster.
double operator_requests(const std::string& metrics_page, const std::string& verb,
                         const std::string& except_resource = "") {
  double total = 0;
  std::istringstream lines(metrics_page);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("outflow_operator_api_requests_total{", 0) != 0) continue;
    if (line.find("verb=\"" + verb + "\"") == std::string::npos) continue;
    if (!except_resource.empty() && line.find("resource=\"" + except_resource + "\"") != std::string::npos) continue;
    total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

json topic(const std::string& name) { return {{"name", name}, {"partitions", 1}, {"replicationFactor", 1}}; }

using ResyncTest = OperatorTest;

TEST_F(ResyncTest, AResyncWithNothingChangedSendsNoGets) {
  auto& op = start_operator();  // --resync-period=3s
  apply(pipeline("quiet", json::array({topic(unique_topic("quiet"))})));
  wait_for_condition("quiet", "TopicsReady", "True");
  const auto reconciles = [&] {
    return testenv::metric_value(http_get(op.metrics_port(), "/metrics").second, "outflow_operator_reconcile_total");
  };
  // Settle: the reconciles caused by our own first writes are over once one
  // resync period has passed with the pipeline ready.
  const double settled = reconciles();
  ASSERT_TRUE(eventually([&] { return reconciles() >= settled + 1; }, 20s));

  const auto page = [&] { return http_get(op.metrics_port(), "/metrics").second; };
  ASSERT_GT(operator_requests(page(), "apply"), 0) << "the request counter counts nothing:\n" << page();

  const double gets_before = operator_requests(page(), "get");
  const double before = reconciles();
  // Two resync periods (3 s each), with reconciles in them.
  const auto window_end = std::chrono::steady_clock::now() + 7s;
  ASSERT_TRUE(eventually([&] { return std::chrono::steady_clock::now() >= window_end && reconciles() >= before + 2; },
                         30s))
      << "no resync happened";
  EXPECT_EQ(operator_requests(page(), "get") - gets_before, 0)
      << "resyncs of an unchanged pipeline sent GETs:\n" << page();
}

// A restart (or a standby taking over) with nothing changed: the status the
// last operator wrote says every topic was Ready at the current generation,
// so the first pass asks Kafka nothing and writes nothing; the periodic check
// follows within one resync period. Its agent objects it compares with the
// watch caches, so the only GETs are of the Secrets it reads the data of. At
// 1,000 pipelines that first pass is what keeps a restarted operator from
// being ready for minutes.
TEST_F(ResyncTest, ARestartedOperatorTakesReadyTopicsFromTheStatusWithoutAskingKafka) {
  const std::vector<std::string> args{"--namespaces=" + ns_, "--resync-period=10m", "--agent-image=outflow-agent:test"};
  operators_.push_back(std::make_unique<OperatorProcess>(args));
  apply(pipeline("restarted", json::array({topic(unique_topic("restarted"))})));
  wait_for_condition("restarted", "Ready", "True");
  ASSERT_EQ(operators_.back()->terminate(), 0);
  operators_.clear();
  const auto version = get("restarted")["metadata"]["resourceVersion"];

  operators_.push_back(std::make_unique<OperatorProcess>(args));
  auto& op = *operators_.back();
  const auto metric = [&](const std::string& name) {
    return testenv::metric_value(http_get(op.metrics_port(), "/metrics").second, name);
  };
  ASSERT_TRUE(eventually([&] { return metric("outflow_operator_reconcile_total") >= 1; }, 30s)) << op.log();
  EXPECT_EQ(metric("outflow_operator_kafka_admin_calls_total"), 0)
      << "the first pass after a restart asked Kafka about topics the status already showed Ready";
  EXPECT_EQ(get("restarted")["metadata"]["resourceVersion"], version) << "and it wrote nothing";
  EXPECT_EQ(condition(get("restarted"), "TopicsReady")->value("status", ""), "True");
  const auto page = http_get(op.metrics_port(), "/metrics").second;
  EXPECT_EQ(operator_requests(page, "get", "secrets"), 0)
      << "the first pass after a restart GET objects the watch caches hold:\n" << page;
}

// Not a GET per resync, and not blind either: the operator watches the
// objects it created, so one deleted by hand comes back at once, long before
// any resync.
TEST_F(ResyncTest, AnAgentObjectDeletedByHandIsPutBackWithoutWaitingForAResync) {
  operators_.push_back(std::make_unique<OperatorProcess>(
      std::vector<std::string>{"--namespaces=" + ns_, "--resync-period=10m", "--agent-image=outflow-agent:test"}));
  apply(pipeline("drift", json::array({topic(unique_topic("drift"))})));
  wait_for_condition("drift", "Ready", "True");
  const std::string agent = "drift-agent";
  for (const auto& kind : {kube::kinds::roles(), kube::kinds::role_bindings(), kube::kinds::service_accounts()}) {
    const auto before = api_.get(kind, ns_, agent).at("metadata").value("uid", "");
    api_.remove(kind, ns_, agent);
    EXPECT_TRUE(eventually(
        [&] {
          const auto now = api_.get_if_exists(kind, ns_, agent);
          return now && now->at("metadata").value("uid", "") != before;
        },
        20s))
        << kind.plural << " " << agent << " was not put back; operator log:\n"
        << operators_.back()->log();
  }
}

}  // namespace
}  // namespace outflow::operator_tests
