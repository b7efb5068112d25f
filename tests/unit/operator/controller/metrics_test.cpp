#include "operator/controller/metrics.h"

#include <prometheus/metric_family.h>

#include <gtest/gtest.h>

#include <map>
#include <string>

using outflow::op::controller::Metrics;

namespace {

// priority label -> gauge value of outflow_operator_workqueue_depth.
std::map<std::string, double> depth_by_priority(const Metrics& metrics) {
  std::map<std::string, double> out;
  for (const auto& family : metrics.registry()->Collect()) {
    if (family.name != "outflow_operator_workqueue_depth") continue;
    for (const auto& metric : family.metric) {
      std::string priority = "<none>";
      for (const auto& label : metric.label) {
        if (label.name == "priority") priority = label.value;
      }
      out[priority] = metric.gauge.value;
    }
  }
  return out;
}

}  // namespace

// The dashboard's queue-depth panel splits changes people made from routine
// work (a new leader's full pass, resyncs, topic checks): both series exist
// from the start, at 0, so a panel and an alert see "nothing waiting".
TEST(OperatorMetrics, QueueDepthIsExportedPerPriorityFromTheStart) {
  Metrics metrics;
  EXPECT_EQ(depth_by_priority(metrics), (std::map<std::string, double>{{"change", 0}, {"routine", 0}}));
  metrics.queue_depth(3, 250);
  EXPECT_EQ(depth_by_priority(metrics), (std::map<std::string, double>{{"change", 3}, {"routine", 250}}));
}
