#include "operator/workloads/prometheus_rule.h"

#include "operator/workloads/service.h"

#include "example_pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

using namespace outflow::op::workloads;
using outflow::testing::defaults;
using outflow::testing::example_spec;
using outflow::testing::identity;

namespace {
std::vector<std::string> names(const std::vector<outflow::pipeline::AlertRule>& rules) {
  std::vector<std::string> out;
  for (const auto& r : rules) out.push_back(r.alert);
  return out;
}
}  // namespace

TEST(AlertRules, DefaultsWithoutDeadLetterCoverBreakerOutboxAndAgents) {
  EXPECT_EQ(names(alert_rules(identity(), example_spec("minimal.yaml"))),
            (std::vector<std::string>{"OutflowBreakerOpen", "OutflowOutboxBacklogHigh", "OutflowOutboxStale",
                                      "OutflowOutboxPoisonRows", "OutflowAgentDown"}));
}

TEST(AlertRules, DeadLetterAddsGrowthAndParkedAlertsAndSpecRulesFollow) {
  const auto rules = alert_rules(identity("shipping"), example_spec("dead-letter-alerts.yaml"));
  EXPECT_EQ(names(rules), (std::vector<std::string>{"OutflowBreakerOpen", "OutflowOutboxBacklogHigh",
                                                    "OutflowOutboxStale", "OutflowOutboxPoisonRows",
                                                    "OutflowDeadLettersGrowing", "OutflowMessagesParked",
                                                    "OutflowDeadLettersGivenUp", "OutflowDeadLetterConsumerFenced",
                                                    "OutflowAgentDown", "ShippingOutboxStalled"}));
  EXPECT_NE(rules[0].expr.find("pipeline=\"shipping\""), std::string::npos) << rules[0].expr;
  EXPECT_NE(rules[0].expr.find("namespace=\"shop\""), std::string::npos) << rules[0].expr;
}

TEST(AlertRules, ASpecRuleReplacesTheDefaultOfTheSameName) {
  auto spec = example_spec("minimal.yaml");
  spec.alerts.rules.push_back({"OutflowOutboxStale", "max(x) > 60", "1m", "critical", "", "", {}});
  const auto rules = alert_rules(identity(), spec);
  EXPECT_EQ(std::count_if(rules.begin(), rules.end(), [](const auto& r) { return r.alert == "OutflowOutboxStale"; }), 1);
  EXPECT_EQ(rules.back().expr, "max(x) > 60");
}

TEST(AlertRules, DefaultsCanBeTurnedOff) {
  auto spec = example_spec("minimal.yaml");
  spec.alerts.defaults = false;
  EXPECT_TRUE(alert_rules(identity(), spec).empty());
}

TEST(AlertRules, PrometheusRuleCarriesSelectorLabelsAndSeverity) {
  const auto rule = agent_prometheus_rule(identity("shipping"), example_spec("dead-letter-alerts.yaml"));
  EXPECT_EQ(rule["apiVersion"], "monitoring.coreos.com/v1");
  EXPECT_EQ(rule["metadata"]["labels"]["release"], "prometheus");
  const auto& first = rule["spec"]["groups"][0]["rules"][0];
  EXPECT_EQ(first["labels"]["severity"], "critical");
  EXPECT_EQ(first["for"], "5m");
  const auto& parked = rule["spec"]["groups"][0]["rules"][5];
  EXPECT_EQ(parked["alert"], "OutflowMessagesParked");
  EXPECT_FALSE(parked.contains("for"));
}

namespace {

// The anchors GitHub gives the README's headings.
std::set<std::string> readme_anchors() {
  std::ifstream in(std::string(OUTFLOW_SOURCE_DIR) + "/README.md");
  std::set<std::string> anchors;
  const std::regex heading(R"(^#+ (.*)$)");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, heading)) continue;
    std::string a;
    for (const char c : m[1].str()) {
      if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_') {
        a.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      } else if (c == ' ') {
        a.push_back('-');
      }
    }
    anchors.insert(a);
  }
  return anchors;
}

}  // namespace

// Someone paged at night follows the alert's runbook_url: it must land on the
// README entry that says what the alert means and what to do.
TEST(AlertRules, EveryDefaultRulePointsAtItsReadmeTroubleshootingEntry) {
  const auto anchors = readme_anchors();
  const auto rule = agent_prometheus_rule(identity("shipping"), example_spec("dead-letter-alerts.yaml"));
  std::size_t defaults = 0;
  for (const auto& r : rule["spec"]["groups"][0]["rules"]) {
    const std::string alert = r["alert"];
    const auto annotations = r.value("annotations", nlohmann::json::object());
    if (alert.rfind("Outflow", 0) != 0) {
      EXPECT_FALSE(annotations.contains("runbook_url")) << alert << " is the spec's own rule";
      continue;
    }
    ++defaults;
    EXPECT_FALSE(annotations.value("summary", "").empty()) << alert;
    EXPECT_FALSE(annotations.value("description", "").empty()) << alert;
    const std::string url = annotations.value("runbook_url", "");
    const auto hash = url.find('#');
    ASSERT_NE(hash, std::string::npos) << alert << ": runbook_url " << url;
    EXPECT_EQ(url.substr(0, hash), kRunbookBase);
    EXPECT_TRUE(anchors.contains(url.substr(hash + 1))) << alert << ": the README has no heading for " << url;
    const std::string severity = r["labels"]["severity"];
    EXPECT_TRUE(severity == "critical" || severity == "warning") << alert << ": " << severity;
  }
  EXPECT_EQ(defaults, 9u);
}

TEST(AlertRules, ASpecRuleNamedLikeADefaultGetsNoRunbookOfTheDefault) {
  auto spec = example_spec("minimal.yaml");
  spec.alerts.rules.push_back({"OutflowOutboxStale", "max(x) > 60", "1m", "critical", "s", "d", {}});
  const auto rule = agent_prometheus_rule(identity(), spec);
  for (const auto& r : rule["spec"]["groups"][0]["rules"]) {
    if (r["alert"] == "OutflowOutboxStale") {
      EXPECT_FALSE(r["annotations"].contains("runbook_url"));
    }
    if (r["alert"] == "OutflowBreakerOpen") {
      EXPECT_TRUE(r["annotations"].contains("runbook_url"));
    }
  }
}

// Alertmanager routes by namespace: the aggregations keep it on the alert.
TEST(AlertRules, DefaultAlertsKeepNamespaceAndPipelineLabels) {
  for (const auto& r : alert_rules(identity("shipping"), example_spec("dead-letter-alerts.yaml"))) {
    if (r.alert.rfind("Outflow", 0) != 0 || r.alert == "OutflowAgentDown") continue;
    EXPECT_NE(r.expr.find("by (namespace, pipeline)"), std::string::npos) << r.alert << ": " << r.expr;
  }
}

// Scraped through a PodMonitor or the prometheus.io annotations, `up` has no
// `service` label; every way of scraping gives it `pod`.
TEST(AlertRules, AgentDownCountsTheAgentPodsByName) {
  const auto rules = alert_rules(identity("shipping"), example_spec("dead-letter-alerts.yaml"));
  const auto down = std::find_if(rules.begin(), rules.end(), [](const auto& r) { return r.alert == "OutflowAgentDown"; });
  ASSERT_NE(down, rules.end());
  EXPECT_NE(down->expr.find(R"(pod=~"shipping-agent-[a-z0-9]+-[a-z0-9]+")"), std::string::npos) << down->expr;
  EXPECT_EQ(down->expr.find("service="), std::string::npos) << down->expr;
}

TEST(MetricsService, SelectsTheAgentPodsOnTheMetricsPort) {
  const auto svc = agent_metrics_service(identity(), defaults());
  EXPECT_EQ(svc["spec"]["selector"], selector_labels(identity()));
  EXPECT_EQ(svc["spec"]["ports"][0]["port"], 9090);
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], "metrics");
}
