#include "bench/operator/metrics_page.h"

#include <gtest/gtest.h>

namespace outflow::bench {
namespace {

const std::string kPage =
    "# HELP outflow_operator_api_requests_total Kubernetes API requests by verb and resource\n"
    "# TYPE outflow_operator_api_requests_total counter\n"
    "outflow_operator_api_requests_total{resource=\"secrets\",verb=\"get\"} 1334\n"
    "outflow_operator_api_requests_total{resource=\"eventpipelines\",verb=\"patch\"} 12\n"
    "outflow_operator_api_requests_total{resource=\"deployments\",verb=\"create\"} 3\n"
    "outflow_operator_api_requests_total{resource=\"eventpipelines\",verb=\"list\"} 2\n"
    "outflow_operator_api_requests_total{resource=\"pods\",verb=\"watch\"} 9\n"
    "outflow_operator_kafka_admin_calls_total{call=\"describe\",result=\"success\"} 40\n"
    "outflow_operator_kafka_admin_calls_total{call=\"describe\",result=\"error\"} 2\n"
    "outflow_operator_kafka_admin_calls_total{call=\"create_topics\",result=\"success\"} 7\n"
    "outflow_operator_kafka_admin_calls_total{call=\"cluster_id\",result=\"success\"} 1\n";

TEST(OperatorMetricsPage, WritesAreEveryVerbButReads) { EXPECT_EQ(api_writes(kPage), 15); }

TEST(OperatorMetricsPage, AdminCallsAddUpByCallWhateverTheirResult) {
  const auto calls = sum_by_label(kPage, "outflow_operator_kafka_admin_calls_total", "call");
  EXPECT_EQ(calls, (std::map<std::string, double>{{"cluster_id", 1}, {"create_topics", 7}, {"describe", 42}}));
  EXPECT_EQ(broker_changes(calls), 7);
}

TEST(OperatorMetricsPage, ALabelIsMatchedWholeNotByItsEnding) {
  // "subverb" must not pass for "verb".
  EXPECT_EQ(api_writes("outflow_operator_api_requests_total{subverb=\"patch\",verb=\"get\"} 5\n"), 0);
}

}  // namespace
}  // namespace outflow::bench
