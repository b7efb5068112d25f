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

}  // namespace
}  // namespace outflow::operator_tests
