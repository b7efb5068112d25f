#pragma once

// The operator's own Prometheus metrics, registered once per process and
// served at /metrics.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace outflow::op::controller {

class Metrics {
 public:
  Metrics();

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // result: "success", "requeue" (asked to come back sooner) or "error".
  void reconciled(const std::string& result, std::chrono::duration<double> took);
  // call: "describe", "create_topics", "create_partitions", "alter_configs",
  // "delete_topics"; ok: the request as a whole succeeded.
  void admin_call(const std::string& call, bool ok);
  // One request of the operator's API client (kube::RequestObserver).
  void api_request(std::string_view verb, std::string_view resource);
  // Keys ready for a worker, by priority: `changes` (watch events, their
  // retries) and `routine` (a new leader's full pass, resyncs, topic checks).
  void queue_depth(std::size_t changes, std::size_t routine);
  void leader(bool leading);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& reconciles_;
  prometheus::Counter& errors_;
  prometheus::Histogram& duration_;
  prometheus::Family<prometheus::Counter>& admin_calls_;
  prometheus::Family<prometheus::Counter>& api_requests_;
  prometheus::Family<prometheus::Gauge>& queue_depth_;
  prometheus::Gauge& queue_depth_changes_;
  prometheus::Gauge& queue_depth_routine_;
  prometheus::Gauge& leader_;
};

}  // namespace outflow::op::controller
