// Events a person reads with `kubectl describe`: normal progress (a new
// pipeline's topics being created, partitions being added) is Normal, and a
// Warning always means something to act on.

#include "operator_fixture.h"

#include "testenv.h"

#include <algorithm>

namespace outflow::operator_tests {
namespace {

namespace kinds = kube::kinds;

using QuietEventsTest = OperatorTest;

json topic(const std::string& name, int partitions) {
  return {{"name", name}, {"partitions", partitions}, {"replicationFactor", 1}};
}

std::vector<json> events_of(kube::ApiClient& api, const std::string& ns, const std::string& pipeline) {
  std::vector<json> found;
  const json events = api.list(kinds::events(), ns);
  for (const auto& e : events["items"]) {
    if (e["involvedObject"].value("name", "") == pipeline) found.push_back(e);
  }
  return found;
}

bool has_reason(const std::vector<json>& events, const std::string& reason) {
  return std::any_of(events.begin(), events.end(), [&](const json& e) { return e.value("reason", "") == reason; });
}

std::string describe_events(const std::vector<json>& events) {
  std::string text;
  for (const auto& e : events) {
    text += e.value("type", "") + " " + e.value("reason", "") + ": " + e.value("message", "") + "\n";
  }
  return text;
}

TEST_F(QuietEventsTest, ANewPipelineAndAPartitionIncreaseRaiseNoWarning) {
  start_operator();
  const auto name = unique_topic("quiet");
  apply(pipeline("quiet", json::array({topic(name, 1)})));
  wait_for_condition("quiet", "TopicsReady", "True");
  apply(pipeline("quiet", json::array({topic(name, 3)})));
  wait_for_condition("quiet", "TopicsReady", "True");
  EXPECT_EQ(describe({name}).at(name).partitions, 3);

  // Events are written after the status they explain: the Normal one for the
  // increase is the last, so once it is there, every earlier one is too.
  std::vector<json> events;
  ASSERT_TRUE(eventually(
      [&] {
        events = events_of(api_, ns_, "quiet");
        return has_reason(events, "PartitionsIncreased");
      },
      10s))
      << describe_events(events);
  EXPECT_TRUE(has_reason(events, "TopicsCreated")) << describe_events(events);
  for (const auto& e : events) {
    EXPECT_NE(e.value("type", ""), "Warning") << describe_events(events);
  }
}

}  // namespace
}  // namespace outflow::operator_tests
