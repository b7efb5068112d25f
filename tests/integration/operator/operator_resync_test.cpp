// A periodic resync costs what changed: with nothing changed it reads the
// informer caches only. At a thousand pipelines and the default 10-minute
// resync, a few uncached GETs per pipeline per resync are several requests a
// second to the API server for nothing.

#include "operator_fixture.h"

#include <chrono>
#include <set>
#include <sstream>

namespace outflow::operator_tests {
namespace {

// GETs of single objects of the kinds the operator applies but does not watch,
// as counted by the API server itself (apiserver_request_total).
double uncached_gets(kube::RestClient& rest) {
  const auto page = rest.get("/metrics").text;
  static const std::set<std::string> kinds = {"serviceaccounts", "roles", "rolebindings", "services",
                                              "prometheusrules"};
  double total = 0;
  std::istringstream lines(page);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("apiserver_request_total{", 0) != 0) continue;
    if (line.find("verb=\"GET\"") == std::string::npos || line.find("scope=\"resource\"") == std::string::npos) {
      continue;
    }
    const auto at = line.find("resource=\"");
    if (at == std::string::npos) continue;
    const auto end = line.find('"', at + 10);
    if (!kinds.contains(line.substr(at + 10, end - at - 10))) continue;
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

  const double gets_before = uncached_gets(rest_);
  const double before = reconciles();
  ASSERT_TRUE(eventually([&] { return reconciles() >= before + 2; }, 30s)) << "no resync happened";
  EXPECT_EQ(uncached_gets(rest_) - gets_before, 0)
      << "two resyncs of an unchanged pipeline sent GETs for objects the operator does not watch";
}

}  // namespace
}  // namespace outflow::operator_tests
