#include "operator/workloads/prometheus_rule.h"

#include "operator/workloads/service.h"

#include "example_pipeline.h"

#include <gtest/gtest.h>

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
                                      "OutflowAgentDown"}));
}

TEST(AlertRules, DeadLetterAddsGrowthAndParkedAlertsAndSpecRulesFollow) {
  const auto rules = alert_rules(identity("shipping"), example_spec("dead-letter-alerts.yaml"));
  EXPECT_EQ(names(rules), (std::vector<std::string>{"OutflowBreakerOpen", "OutflowOutboxBacklogHigh",
                                                    "OutflowOutboxStale", "OutflowDeadLettersGrowing",
                                                    "OutflowMessagesParked", "OutflowAgentDown",
                                                    "ShippingOutboxStalled"}));
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
  EXPECT_EQ(first["for"], "1m");
  const auto& parked = rule["spec"]["groups"][0]["rules"][4];
  EXPECT_EQ(parked["alert"], "OutflowMessagesParked");
  EXPECT_FALSE(parked.contains("for"));
}

TEST(MetricsService, SelectsTheAgentPodsOnTheMetricsPort) {
  const auto svc = agent_metrics_service(identity(), defaults());
  EXPECT_EQ(svc["spec"]["selector"], selector_labels(identity()));
  EXPECT_EQ(svc["spec"]["ports"][0]["port"], 9090);
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], "metrics");
}
