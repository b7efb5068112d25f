#include "operator/controller/metrics.h"

namespace outflow::op::controller {

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      reconciles_(prometheus::BuildCounter()
                      .Name("outflow_operator_reconcile_total")
                      .Help("EventPipeline reconciles by result")
                      .Register(*registry_)),
      errors_(prometheus::BuildCounter()
                  .Name("outflow_operator_reconcile_errors_total")
                  .Help("Reconciles that failed and were retried with back-off")
                  .Register(*registry_)
                  .Add({})),
      duration_(prometheus::BuildHistogram()
                    .Name("outflow_operator_reconcile_duration_seconds")
                    .Help("Time one reconcile took")
                    .Register(*registry_)
                    .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1,
                                                                     0.25, 0.5, 1, 2.5, 5, 10, 30})),
      admin_calls_(prometheus::BuildCounter()
                       .Name("outflow_operator_kafka_admin_calls_total")
                       .Help("Kafka Admin API requests by call and result")
                       .Register(*registry_)),
      api_requests_(prometheus::BuildCounter()
                        .Name("outflow_operator_api_requests_total")
                        .Help("Kubernetes API requests by verb and resource (informers' lists and watches "
                              "not included)")
                        .Register(*registry_)),
      queue_depth_(prometheus::BuildGauge()
                       .Name("outflow_operator_workqueue_depth")
                       .Help("Pipelines waiting for a worker, by priority: change (watch events and "
                             "their retries) or routine (a new leader's full pass, resyncs, topic checks)")
                       .Register(*registry_)),
      // Both series from the start, at 0: "nothing waiting" is an answer too.
      queue_depth_changes_(queue_depth_.Add({{"priority", "change"}})),
      queue_depth_routine_(queue_depth_.Add({{"priority", "routine"}})),
      leader_(prometheus::BuildGauge()
                  .Name("outflow_operator_leader")
                  .Help("1 while this process holds the leader lease (or runs without election)")
                  .Register(*registry_)
                  .Add({})) {}

void Metrics::reconciled(const std::string& result, std::chrono::duration<double> took) {
  reconciles_.Add({{"result", result}}).Increment();
  if (result == "error") errors_.Increment();
  duration_.Observe(took.count());
}

void Metrics::admin_call(const std::string& call, bool ok) {
  admin_calls_.Add({{"call", call}, {"result", ok ? "success" : "error"}}).Increment();
}

void Metrics::api_request(std::string_view verb, std::string_view resource) {
  api_requests_.Add({{"verb", std::string(verb)}, {"resource", std::string(resource)}}).Increment();
}

void Metrics::queue_depth(std::size_t changes, std::size_t routine) {
  queue_depth_changes_.Set(static_cast<double>(changes));
  queue_depth_routine_.Set(static_cast<double>(routine));
}

void Metrics::leader(bool leading) { leader_.Set(leading ? 1 : 0); }

}  // namespace outflow::op::controller
