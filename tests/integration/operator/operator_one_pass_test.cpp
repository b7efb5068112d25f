// A new pipeline is finished in one pass: the reconcile that creates its topics
// also confirms them on the broker and reports them ready, so Ready does not
// wait for a second trip through a queue that, at scale, holds every other
// pipeline. Seen from outside: no TopicsPending warning on the way to Ready.

#include "operator_fixture.h"

#include "common/kube/informer.h"

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

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

kube::InformerOptions in_namespace(const std::string& ns) {
  kube::InformerOptions options;
  options.namespace_name = ns;
  return options;
}

// Every AgentsReady reason a pipeline's stored status went through, from a
// watch: each write of the status is one event.
class AgentsReadyHistory {
 public:
  AgentsReadyHistory(kube::RestClient& rest, const std::string& ns, const std::string& name)
      : informer_(rest, kube::kinds::event_pipelines(), in_namespace(ns)) {
    informer_.add_handler([this, name](kube::InformerEventType, const json& object) {
      if (object["metadata"].value("name", "") != name) return;
      for (const auto& c : object.value("status", json::object()).value("conditions", json::array())) {
        if (c.value("type", "") != "AgentsReady") continue;
        std::lock_guard lock(mutex_);
        if (reasons_.empty() || reasons_.back() != c.value("reason", "")) reasons_.push_back(c.value("reason", ""));
      }
    });
    informer_.start();
  }
  std::vector<std::string> reasons() {
    std::lock_guard lock(mutex_);
    return reasons_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> reasons_;
  kube::Informer informer_;  // last: stopped before what it fills
};

// At 1,000 pipelines every write of a new pipeline's status is a write the API
// server makes while all the others wait. The pass that applies the agent
// Deployment reports the Deployment it applied, not "missing" from the cache
// it read before the apply, which cost a second status write of every new
// pipeline as soon as the cache caught up.
TEST_F(OnePassTest, ANewPipelinesFirstStatusReportsTheDeploymentThePassApplied) {
  AgentsReadyHistory history(rest_, ns_, "once");
  auto& op = start_operator();
  apply(pipeline("once", json::array({topic(unique_topic("once"), 1)})));
  wait_for_condition("once", "TopicsReady", "True");
  wait_for_condition("once", "AgentsReady", "True", "ScaledToZero");
  ASSERT_TRUE(eventually([&] { return !history.reasons().empty(); }, 10s));

  EXPECT_EQ(history.reasons(), std::vector<std::string>{"ScaledToZero"})
      << "the status said something else about the agents on the way (DeploymentMissing: judged from the cache "
         "before the pass applied the Deployment)";
  EXPECT_EQ(requests(op, "get", "secrets"), 1) << "the pipeline's one Secret was read more than once";
}

}  // namespace
}  // namespace outflow::operator_tests
