// A new pipeline is finished in one pass: the reconcile that creates its topics
// also confirms them on the broker and reports them ready, so Ready does not
// wait for a second trip through a queue that, at scale, holds every other
// pipeline. Seen from outside: no TopicsPending warning on the way to Ready.

#include "operator_fixture.h"

#include <chrono>

namespace outflow::operator_tests {
namespace {

using kube::kinds::events;

bool has_event(kube::ApiClient& api, const std::string& ns, const std::string& object, const std::string& reason) {
  const json list = api.list(events(), ns);
  for (const auto& e : list["items"]) {
    if (e.value("reason", "") == reason && e["involvedObject"].value("name", "") == object) return true;
  }
  return false;
}

json topic(const std::string& name, int partitions) {
  return {{"name", name}, {"partitions", partitions}, {"replicationFactor", 1}};
}

using OnePassTest = OperatorTest;

TEST_F(OnePassTest, ANewPipelinesTopicsAreReadyWithoutAPendingRoundTrip) {
  start_operator();
  const auto orders = unique_topic("onepass");
  apply(pipeline("onepass", json::array({topic(orders, 2), topic(orders + ".audit", 1)})));

  const auto ready = wait_for_condition("onepass", "TopicsReady", "True");
  EXPECT_EQ(condition(ready, "TopicsReady")->value("reason", ""), "AllTopicsReady");
  // Events are recorded in order; once TopicsCreated is there, a warning from
  // the same reconcile would be too.
  ASSERT_TRUE(eventually([&] { return has_event(api_, ns_, "onepass", "TopicsCreated"); }, 30s));
  EXPECT_FALSE(has_event(api_, ns_, "onepass", "TopicsPending"))
      << "the pipeline reported its new topics pending and needed a second reconcile to see them";
}

TEST_F(OnePassTest, APartitionIncreaseIsReportedInTheSamePass) {
  start_operator();
  const auto orders = unique_topic("grow");
  apply(pipeline("grow", json::array({topic(orders, 1)})));
  wait_for_condition("grow", "TopicsReady", "True");

  apply(pipeline("grow", json::array({topic(orders, 3)})));
  const auto grown = wait_for_condition("grow", "TopicsReady", "True");
  EXPECT_EQ(describe({orders}).at(orders).partitions, 3);
  ASSERT_TRUE(eventually([&] { return has_event(api_, ns_, "grow", "PartitionsIncreased"); }, 30s));
  EXPECT_FALSE(has_event(api_, ns_, "grow", "TopicsPending"))
      << "the partition increase was reported as a pending warning before a second reconcile saw it";
}

// The operator's requests of one kind, read from its own metrics.
double requests(OperatorProcess& op, const std::string& verb, const std::string& resource) {
  const auto page = http_get(op.metrics_port(), "/metrics").second;
  return testenv::metric_value(
      page, "outflow_operator_api_requests_total{resource=\"" + resource + "\",verb=\"" + verb + "\"}");
}

// At 1,000 pipelines every write of a new pipeline's status is a write the API
// server makes while all the others wait: the pass that applies the agent
// Deployment reports the Deployment it applied, not "missing" from the cache
// it read before, so the status is written once and no later event changes it.
TEST_F(OnePassTest, ANewPipelinesStatusIsWrittenOnceAndItsSecretReadOnce) {
  auto& op = start_operator();
  apply(pipeline("once", json::array({topic(unique_topic("once"), 1)})));
  wait_for_condition("once", "TopicsReady", "True");
  const auto scaled = wait_for_condition("once", "AgentsReady", "True", "ScaledToZero");

  // The controller manager answers the new Deployment with a status of its
  // own; that event and two resyncs after it are reconciled before counting.
  ASSERT_TRUE(eventually(
      [&] {
        const auto d = api_.get_if_exists(kube::kinds::deployments(), ns_, "once-agent");
        return d && (*d)["status"].value("observedGeneration", 0) >= 1;
      },
      30s))
      << "the controller manager never observed the agent Deployment";
  const auto reconciles = testenv::metric_value(http_get(op.metrics_port(), "/metrics").second,
                                                "outflow_operator_reconcile_total");
  ASSERT_TRUE(eventually(
      [&] {
        return testenv::metric_value(http_get(op.metrics_port(), "/metrics").second,
                                     "outflow_operator_reconcile_total") >= reconciles + 2;
      },
      30s));

  EXPECT_EQ(requests(op, "apply", "eventpipelines"), 1)
      << "the status of a new pipeline was written more than once on its way to a steady state";
  EXPECT_EQ(requests(op, "get", "secrets"), 1) << "the pipeline's one Secret was read more than once";
  EXPECT_EQ(get("once")["metadata"]["resourceVersion"], scaled["metadata"]["resourceVersion"])
      << "the pipeline was written again after it was ready";
}

}  // namespace
}  // namespace outflow::operator_tests
