// The default alert rules evaluated by Prometheus' own rule engine (`promtool
// test rules`) on series shaped like the agents' metrics: the breaker-open and
// backlog alerts fire when they should, with their labels and annotations, and
// stay quiet on a short blip, at the threshold, and for another pipeline.

#include "kube_helpers.h"
#include "operator/workloads/prometheus_rule.h"
#include "testenv.h"
#include "unit/operator/workloads/example_pipeline.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sys/wait.h>

namespace {

using nlohmann::json;
using outflow::testing::example_spec;
using outflow::testing::identity;
namespace testenv = outflow::testenv;

class AlertRulesPromtoolTest : public ::testing::Test {
 protected:
  AlertRulesPromtoolTest() : dir_(testenv::unique_name("/tmp/outflow-alert-rules")) {
    std::filesystem::create_directories(dir_);
  }
  ~AlertRulesPromtoolTest() override {
    std::error_code ignored;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ignored);
  }

  // Writes the rules the operator renders for shop/orders and `tests`, runs
  // promtool test rules; returns its exit code and output.
  std::pair<int, std::string> promtool_test(const json& tests) {
    const auto tool = testenv::require("OUTFLOW_TEST_KUBE_BIN") + "/promtool";
    if (!std::filesystem::exists(tool)) {
      throw std::runtime_error(tool + " does not exist: run hack/setup.sh (it builds promtool, PROMTOOL_VERSION)");
    }
    std::ofstream(dir_ + "/rules.json") << json{{"groups", rule_["spec"]["groups"]}}.dump(2);
    std::ofstream(dir_ + "/test.json")
        << json{{"rule_files", {dir_ + "/rules.json"}}, {"evaluation_interval", "1m"}, {"tests", tests}}.dump(2);
    const auto out = dir_ + "/out.txt";
    const int status = std::system((tool + " test rules " + dir_ + "/test.json > " + out + " 2>&1").c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, testenv::read_text(out)};
  }

  // The alert as it fires: its labels, and its annotations with $value filled in.
  json firing(const std::string& alert, const std::string& value) const {
    for (const auto& r : rule_["spec"]["groups"][0]["rules"]) {
      if (r["alert"] != alert) continue;
      json labels = r["labels"];
      labels["namespace"] = "shop";
      labels["pipeline"] = "orders";
      json annotations = r["annotations"];
      for (auto& [key, text] : annotations.items()) {
        text = std::regex_replace(text.get<std::string>(), std::regex(R"(\{\{ \$value( \| humanize)? \}\})"), value);
      }
      return {{"exp_labels", labels}, {"exp_annotations", annotations}};
    }
    throw std::runtime_error("no rule " + alert);
  }

  static json series(const std::string& metric, const std::string& pipeline, const std::string& pod,
                     const std::string& values) {
    return {{"series", metric + "{namespace=\"shop\",pipeline=\"" + pipeline + "\",pod=\"" + pod + "\"}"},
            {"values", values}};
  }

  static json at(const std::string& time, const std::string& alert, json alerts = json::array()) {
    return {{"eval_time", time}, {"alertname", alert}, {"exp_alerts", alerts}};
  }

  std::string dir_;
  json rule_ = outflow::op::workloads::agent_prometheus_rule(identity("orders"), example_spec("minimal.yaml"));
};

TEST_F(AlertRulesPromtoolTest, BreakerOpenFiresAfterFiveMinutesNotOrHalfOpenAndOnlyForItsPipeline) {
  const std::string alert = "OutflowBreakerOpen";
  const json tests = json::array({
      // Open from minute 6: pending for 5 minutes, firing at 11, resolved once closed.
      {{"interval", "1m"},
       {"input_series", {series("outflow_breaker_state", "orders", "orders-agent-1-a", "0x5 1x10 0x10")}},
       {"alert_rule_test", {at("10m", alert), at("12m", alert, {firing(alert, "1")}), at("18m", alert)}}},
      // HalfOpen (2) counts: probing after failures is not publishing either,
      // and a breaker cycling Open -> HalfOpen -> Open keeps the alert pending.
      {{"interval", "1m"},
       {"input_series", {series("outflow_breaker_state", "orders", "orders-agent-1-a", "0x5 1 2 1 2 1 2 2 2")}},
       {"alert_rule_test", {at("12m", alert, {firing(alert, "2")})}}},
      // A 3-minute blip (a broker restart) never fires.
      {{"interval", "1m"},
       {"input_series", {series("outflow_breaker_state", "orders", "orders-agent-1-a", "0x5 1x3 0x20")}},
       {"alert_rule_test", {at("8m", alert), at("12m", alert), at("20m", alert)}}},
      // One pod of two open is enough; another pipeline's open breaker is not ours.
      {{"interval", "1m"},
       {"input_series",
        {series("outflow_breaker_state", "orders", "orders-agent-1-a", "0x20"),
         series("outflow_breaker_state", "orders", "orders-agent-1-b", "1x20"),
         series("outflow_breaker_state", "billing", "billing-agent-1-a", "1x20")}},
       {"alert_rule_test", {at("4m", alert), at("6m", alert, {firing(alert, "1")})}}},
  });
  const auto [code, output] = promtool_test(tests);
  EXPECT_EQ(code, 0) << output;
}

TEST_F(AlertRulesPromtoolTest, BacklogHighFiresOnTheSumAboveTenBatchesForTenMinutes) {
  // minimal.yaml keeps the default batchSize, 500: the threshold is 5000 rows.
  const std::string alert = "OutflowOutboxBacklogHigh";
  const json tests = json::array({
      // Two pods with 3000 each: 6000 together, above for 10 minutes.
      {{"interval", "1m"},
       {"input_series",
        {series("outflow_outbox_backlog", "orders", "orders-agent-1-a", "3000x20"),
         series("outflow_outbox_backlog", "orders", "orders-agent-1-b", "3000x20")}},
       {"alert_rule_test", {at("9m", alert), at("11m", alert, {firing(alert, "6000")})}}},
      // At the threshold, not above it: never.
      {{"interval", "1m"},
       {"input_series", {series("outflow_outbox_backlog", "orders", "orders-agent-1-a", "5000x30")}},
       {"alert_rule_test", {at("15m", alert), at("30m", alert)}}},
      // Above for 8 minutes, then drained: never.
      {{"interval", "1m"},
       {"input_series", {series("outflow_outbox_backlog", "orders", "orders-agent-1-a", "9000x7 100x20")}},
       {"alert_rule_test", {at("9m", alert), at("12m", alert)}}},
      // Another pipeline's backlog is not ours.
      {{"interval", "1m"},
       {"input_series", {series("outflow_outbox_backlog", "billing", "billing-agent-1-a", "90000x20")}},
       {"alert_rule_test", {at("15m", alert)}}},
  });
  const auto [code, output] = promtool_test(tests);
  EXPECT_EQ(code, 0) << output;
}

TEST_F(AlertRulesPromtoolTest, DeadLetterConsumerFencedFiresOnRepeatedFencesNotOnOne) {
  rule_ = outflow::op::workloads::agent_prometheus_rule(identity("orders"), example_spec("dead-letter-alerts.yaml"));
  const std::string alert = "OutflowDeadLetterConsumerFenced";
  const std::string metric = "outflow_dlq_consumer_failures_total";
  const json tests = json::array({
      // Two agents under one instance id: fenced at minutes 21, 22 and 24
      // (the replacement back-off doubling), firing from the third.
      {{"interval", "1m"},
       {"input_series", {series(metric, "orders", "orders-agent-1-a", "0x20 1 2 2 3x20")}},
       {"alert_rule_test", {at("23m", alert), at("24m", alert, {firing(alert, "3")})}}},
      // One fence after an outage, and a second an hour later: never.
      {{"interval", "1m"},
       {"input_series", {series(metric, "orders", "orders-agent-1-a", "0x20 1x60 2x30")}},
       {"alert_rule_test", {at("25m", alert), at("85m", alert), at("100m", alert)}}},
      // A fence every 10 minutes: at most 2 in any 15 minutes, never.
      {{"interval", "1m"},
       {"input_series",
        {series(metric, "orders", "orders-agent-1-a", "0x9 1x10 2x10 3x10 4x10 5x10")}},
       {"alert_rule_test", {at("30m", alert), at("45m", alert), at("59m", alert)}}},
      // Another pipeline's fences are not ours.
      {{"interval", "1m"},
       {"input_series", {series(metric, "billing", "billing-agent-1-a", "0x20 1 2 3 4 5x20")}},
       {"alert_rule_test", {at("30m", alert)}}},
  });
  const auto [code, output] = promtool_test(tests);
  EXPECT_EQ(code, 0) << output;
}

}  // namespace
