// The dashboard and the default alert rules against what the binaries really
// export: the real operator and agent run against the test environment, both
// /metrics pages are scraped, and every query of the dashboard and of the
// PrometheusRule the operator installed must name only metrics and labels
// found there (plus the `namespace`/`pod` target labels Prometheus adds), and
// return data when promtool evaluates it over exactly those series. promtool
// also checks the rules' syntax (`promtool check rules`).

#include "agent/agent_fixture.h"
#include "observability/prometheus_text.h"
#include "operator/operator_fixture.h"
#include "testenv.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sys/wait.h>

namespace outflow::observability_tests {
namespace {

using agent_tests::AgentTest;
using nlohmann::json;
using namespace std::chrono_literals;
using testenv::eventually;

// Labels Prometheus attaches to every scraped series itself.
const std::set<std::string> kTargetLabels = {"namespace", "pod"};
// A pod name as a Deployment makes it, so OutflowAgentDown's pod pattern sees it.
constexpr const char* kAgentPod = "orders-agent-7c9f8d6b5-x2v9k";
constexpr const char* kOperatorPod = "outflow-operator-5b7d9c8f6-q4w2z";

struct Query {
  std::string where;  // "dashboard panel 'Backlog'", "rule OutflowBreakerOpen"
  std::string expr;
};

std::string promtool() {
  const auto path = testenv::require("OUTFLOW_TEST_KUBE_BIN") + "/promtool";
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error(path + " does not exist: run hack/setup.sh (it builds promtool, PROMTOOL_VERSION)");
  }
  return path;
}

// Runs a command to its end; returns its exit code, output in `output`.
int run(const std::string& command, std::string& output) {
  const auto out_file = testenv::unique_name("/tmp/outflow-promtool") + ".out";
  const int status = std::system((command + " > " + out_file + " 2>&1").c_str());
  output = testenv::read_text(out_file);
  std::filesystem::remove(out_file);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class ObservabilityTest : public AgentTest {
 protected:
  ObservabilityTest() {
    operator_tests::install_prometheus_rule_crd(api_);
    api_.create(kube::kinds::secrets(), ns_,
                {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "orders-db"}, {"namespace", ns_}}},
                 {"stringData", {{"url", testenv::require("OUTFLOW_TEST_PG_URL")}}}});
    // Every default rule: dead letters on, agents wanted, defaults on.
    spec()["deadLetter"] = {{"topic", topic_ + ".dlq"},
                            {"maxAttempts", 2},
                            {"backoff", {{"initialMs", 1000}, {"multiplier", 2}, {"maxMs", 4000}}},
                            {"partitions", 1},
                            {"replicationFactor", 1}};
    spec()["agent"]["replicas"] = 2;
    spec()["alerts"] = {{"defaults", true}};
    work_ = testenv::unique_name("/tmp/outflow-observability");
    std::filesystem::create_directories(work_);
  }
  ~ObservabilityTest() override {
    std::error_code ignored;
    if (!HasFailure()) std::filesystem::remove_all(work_, ignored);
  }

  std::string write(const std::string& file, const std::string& text) {
    const auto path = work_ + "/" + file;
    std::ofstream(path) << text;
    return path;
  }

  std::string work_;
};

std::vector<Query> dashboard_queries(const json& dashboard) {
  std::vector<Query> out;
  for (const auto& panel : dashboard.at("panels")) {
    for (const auto& target : panel.value("targets", json::array())) {
      out.push_back({"dashboard panel '" + panel.value("title", "") + "'", target.at("expr")});
    }
  }
  return out;
}

// Grafana's variables as a user picking this pipeline would have them.
std::string as_grafana_runs_it(std::string expr, const std::string& ns, const std::string& pipeline) {
  expr = std::regex_replace(expr, std::regex(R"(\$__rate_interval)"), "5m");
  expr = std::regex_replace(expr, std::regex(R"(\$namespace)"), ns);
  return std::regex_replace(expr, std::regex(R"(\$pipeline)"), pipeline);
}

// The basics Grafana needs to load it: a Prometheus data source variable that
// every panel and target uses, unique panel ids, a grid position each.
void expect_loadable_dashboard(const json& dashboard) {
  ASSERT_TRUE(dashboard.contains("panels") && dashboard["panels"].is_array() && !dashboard["panels"].empty());
  EXPECT_FALSE(dashboard.value("title", "").empty());
  EXPECT_FALSE(dashboard.value("uid", "").empty());
  EXPECT_GE(dashboard.value("schemaVersion", 0), 36);
  bool datasource_variable = false;
  for (const auto& variable : dashboard.at("templating").at("list")) {
    if (variable.value("type", "") == "datasource" && variable.value("name", "") == "datasource") {
      EXPECT_EQ(variable.value("query", ""), "prometheus");
      datasource_variable = true;
    }
  }
  EXPECT_TRUE(datasource_variable) << "no datasource variable: the dashboard would be bound to one data source";
  std::set<int> ids;
  for (const auto& panel : dashboard["panels"]) {
    const std::string title = panel.value("title", "");
    EXPECT_TRUE(ids.insert(panel.value("id", -1)).second) << "duplicate panel id in '" << title << "'";
    for (const char* key : {"h", "w", "x", "y"}) {
      EXPECT_TRUE(panel["gridPos"].contains(key)) << title;
    }
    if (panel.value("type", "") == "row") continue;
    EXPECT_EQ(panel["datasource"].value("uid", ""), "${datasource}") << title;
    ASSERT_FALSE(panel.value("targets", json::array()).empty()) << "panel '" << title << "' has no query";
    for (const auto& target : panel["targets"]) {
      EXPECT_EQ(target["datasource"].value("uid", ""), "${datasource}") << title;
      EXPECT_FALSE(target.value("refId", "").empty()) << title;
    }
  }
}

TEST_F(ObservabilityTest, EveryQueryNamesWhatTheBinariesExport) {
  operator_tests::OperatorProcess op(operator_tests::operator_args(ns_));
  auto& agent = start_agent(kAgentPod);
  const auto agent_metrics = [&] { return testenv::http_get(agent.metrics_port(), "/metrics").second; };
  const auto operator_metrics = [&] { return testenv::http_get(op.metrics_port(), "/metrics").second; };

  // The operator has reconciled, called Kafka's Admin API and installed the
  // rules; the agent has published a row.
  std::optional<json> rule;
  ASSERT_TRUE(eventually(
      [&] {
        rule = api_.get_if_exists(kube::kinds::prometheus_rules(), ns_, "orders-agent");
        return rule.has_value();
      },
      60s))
      << "the operator installed no PrometheusRule\n"
      << op.log();
  db_.insert("k", "1");
  ASSERT_TRUE(eventually([&] { return testenv::metric_value(agent_metrics(), "outflow_outbox_published_total") >= 1; },
                         60s))
      << agent.log();
  ASSERT_TRUE(eventually(
      [&] {
        const auto page = operator_metrics();
        return page.find("outflow_operator_kafka_admin_calls_total{") != std::string::npos &&
               page.find("outflow_operator_reconcile_total{") != std::string::npos;
      },
      60s))
      << op.log();

  auto agent_page = parse_exposition(agent_metrics());
  auto operator_page = parse_exposition(operator_metrics());
  Exposition exported;
  for (auto* page : {&agent_page, &operator_page}) {
    for (auto& s : page->series) {
      s.labels["pod"] = page == &agent_page ? kAgentPod : kOperatorPod;
      if (page == &agent_page) s.labels["namespace"] = ns_;
      exported.series.push_back(s);
    }
    for (const auto& [name, labels] : page->labels_by_name) exported.labels_by_name[name].insert(labels.begin(), labels.end());
    exported.type_by_family.insert(page->type_by_family.begin(), page->type_by_family.end());
  }
  // Made by Prometheus for every target, not by the binaries.
  exported.labels_by_name["up"] = {};
  for (const auto* pod : {kAgentPod, kOperatorPod}) {
    exported.series.push_back({"up", {{"namespace", ns_}, {"pod", pod}}});
  }

  const json dashboard = json::parse(testenv::read_text(testenv::source_path("charts/outflow/dashboards/outflow.json")));
  expect_loadable_dashboard(dashboard);
  std::vector<Query> queries = dashboard_queries(dashboard);
  for (const auto& variable : dashboard.at("templating").at("list")) {
    if (variable.value("type", "") != "query") continue;
    std::smatch m;
    const std::string query = variable.at("query").at("query");
    ASSERT_TRUE(std::regex_match(query, m, std::regex(R"(label_values\((.*), *([a-z_]+)\))"))) << query;
    queries.push_back({"dashboard variable $" + variable.value("name", "") + " (its label)", "sum by (" + m[2].str() + ") (" + m[1].str() + ")"});
  }
  const std::size_t dashboard_count = queries.size();
  const auto groups = (*rule)["spec"]["groups"];
  for (const auto& r : groups.at(0).at("rules")) queries.push_back({"rule " + r.value("alert", ""), r.at("expr")});
  EXPECT_EQ(queries.size() - dashboard_count, 9u) << "every default rule, with deadLetter and replicas > 0";

  for (const auto& q : queries) {
    const auto refs = references(q.expr);
    EXPECT_FALSE(refs.metrics.empty()) << q.where << " reads no metric: " << q.expr;
    std::set<std::string> allowed = kTargetLabels;
    for (const auto& name : refs.metrics) {
      const auto found = exported.labels_by_name.find(name);
      if (found == exported.labels_by_name.end()) {
        ADD_FAILURE() << q.where << " reads " << name << ", which neither binary exports: " << q.expr;
        continue;
      }
      allowed.insert(found->second.begin(), found->second.end());
    }
    for (const auto& label : refs.labels) {
      EXPECT_TRUE(allowed.contains(label)) << q.where << " uses the label " << label
                                           << ", which its metrics do not have: " << q.expr;
    }
    for (const auto& name : refs.counted) {
      const bool bucket = name.size() > 7 && name.ends_with("_bucket");
      const auto family = bucket ? name.substr(0, name.size() - 7) : name;
      const auto type = exported.type_by_family.find(family);
      EXPECT_TRUE(type != exported.type_by_family.end() &&
                  type->second == (bucket ? std::string("histogram") : std::string("counter")))
          << q.where << " takes a rate of " << name << ", which is no counter: " << q.expr;
    }
  }

  // promtool: the rules parse (PromQL, durations, templates), and every query
  // returns data over exactly the scraped series. absent(q) is empty iff q
  // has a result.
  const auto tool = promtool();
  const auto rules_path = write("rules.json", json{{"groups", groups}}.dump(2));
  std::string output;
  EXPECT_EQ(run(tool + " check rules " + rules_path, output), 0) << output;

  json input = json::array();
  for (const auto& s : exported.series) {
    const auto family_type = [&] {
      for (const char* suffix : {"_bucket", "_sum", "_count", ""}) {
        const std::string base = s.name.ends_with(suffix) ? s.name.substr(0, s.name.size() - std::strlen(suffix)) : "";
        const auto t = exported.type_by_family.find(base.empty() ? s.name : base);
        if (t != exported.type_by_family.end()) return t->second;
      }
      return std::string("gauge");
    }();
    // Counters and histograms grow; gauges hold a value past every rule's
    // threshold (`up` is 1: one pod up), so each alert's expression returns
    // something: its selectors match what is exported.
    const bool grows = family_type == "counter" || family_type == "histogram";
    const char* values = grows ? "0+1x30" : s.name == "up" ? "1x30" : "1000000x30";
    input.push_back({{"series", series_text(s)}, {"values", values}});
  }
  json expr_tests = json::array();
  for (const auto& q : queries) {
    expr_tests.push_back({{"expr", "absent(" + as_grafana_runs_it(q.expr, ns_, name_) + ")"},
                          {"eval_time", "25m"},
                          {"exp_samples", json::array()}});
  }
  // promtool test rules needs a rule file; the rules above serve.
  const json tests = {{"rule_files", {rules_path}},
                      {"evaluation_interval", "1m"},
                      {"tests", {{{"interval", "1m"}, {"input_series", input}, {"promql_expr_test", expr_tests}}}}};
  const auto tests_path = write("queries_test.json", tests.dump(2));
  EXPECT_EQ(run(tool + " test rules " + tests_path, output), 0)
      << "a query returns nothing over the series the binaries export (absent() below is not empty):\n"
      << output;
}

}  // namespace
}  // namespace outflow::observability_tests
