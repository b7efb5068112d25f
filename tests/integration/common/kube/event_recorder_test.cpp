// The EventRecorder against the real API server: the Events `kubectl describe`
// would show, their aggregation into counts, and that a recorder that cannot
// write (API server unreachable, RBAC says no) never throws into its caller.
//
// Each test records about a ConfigMap of its own in a namespace of its own,
// and finds its Events by the involved object's uid.

#include "common/kube/api_client.h"
#include "common/kube/event_recorder.h"
#include "kube_helpers.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace outflow {
namespace {

using namespace std::chrono_literals;
using kube::EventType;
using nlohmann::json;

constexpr const char* kComponent = "outflow-operator";
constexpr const char* kInstance = "outflow-operator-5f7c9-x2lq";

class EventRecorderTest : public ::testing::Test {
 protected:
  EventRecorderTest()
      : rest_(testenv::admin_client()),
        api_(rest_),
        namespace_(rest_, "outflow-events"),
        object_(api_.create(kube::kinds::config_maps(), namespace_.name(),
                            {{"apiVersion", "v1"},
                             {"kind", "ConfigMap"},
                             {"metadata", {{"name", "orders-agent"}}},
                             {"data", {{"k", "v"}}}})),
        recorder_(api_, kComponent, kInstance) {}

  std::string uid() const { return object_["metadata"]["uid"]; }

  // The Events about `object_`, oldest name first.
  std::vector<json> events(const std::string& ns = {}) {
    kube::ListOptions options;
    options.field_selector = "involvedObject.uid=" + uid();
    const json list =
        api_.list(kube::kinds::events(), ns.empty() ? namespace_.name() : ns, options);
    std::vector<json> items(list["items"].begin(), list["items"].end());
    std::sort(items.begin(), items.end(), [](const json& x, const json& y) {
      return x["metadata"]["name"].get<std::string>() < y["metadata"]["name"].get<std::string>();
    });
    return items;
  }

  json only_event() {
    const auto all = events();
    if (all.size() != 1) {
      ADD_FAILURE() << "expected one Event, found " << all.size();
      return json::object();
    }
    return all.front();
  }

  kube::RestClient rest_;
  kube::ApiClient api_;
  testenv::ScopedNamespace namespace_;
  json object_;
  kube::EventRecorder recorder_;
};

TEST_F(EventRecorderTest, RecordCreatesAnEventAboutTheObject) {
  recorder_.record(object_, EventType::Normal, "AgentConfigured", "agent config written");

  const json event = only_event();
  const std::string name = event["metadata"]["name"];
  EXPECT_TRUE(std::regex_match(name, std::regex(R"(orders-agent\.[0-9a-f]+)"))) << name;
  EXPECT_EQ(event["metadata"]["namespace"], namespace_.name());
  EXPECT_EQ(event["involvedObject"], (json{{"apiVersion", "v1"},
                                           {"kind", "ConfigMap"},
                                           {"name", "orders-agent"},
                                           {"namespace", namespace_.name()},
                                           {"uid", uid()},
                                           {"resourceVersion", object_["metadata"]["resourceVersion"]}}));
  EXPECT_EQ(event["type"], "Normal");
  EXPECT_EQ(event["reason"], "AgentConfigured");
  EXPECT_EQ(event["message"], "agent config written");
  EXPECT_EQ(event["source"]["component"], kComponent);
  EXPECT_EQ(event["reportingComponent"], kComponent);
  EXPECT_EQ(event["reportingInstance"], kInstance);
  EXPECT_EQ(event["count"], 1);
  const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  EXPECT_TRUE(std::regex_match(event["firstTimestamp"].get<std::string>(), rfc3339)) << event.dump();
  EXPECT_EQ(event["lastTimestamp"], event["firstTimestamp"]);
}

TEST_F(EventRecorderTest, RepeatsAggregateIntoTheCountOfOneEvent) {
  recorder_.record(object_, EventType::Warning, "TopicConflict", "topic orders is claimed");
  const json first = only_event();
  std::this_thread::sleep_for(1100ms);  // so lastTimestamp moves on
  recorder_.record(object_, EventType::Warning, "TopicConflict", "topic orders is claimed");
  const json second = only_event();
  EXPECT_EQ(second["count"], 2);
  recorder_.record(object_, EventType::Warning, "TopicConflict", "topic orders is claimed");
  const json third = only_event();
  EXPECT_EQ(third["count"], 3);

  EXPECT_EQ(third["metadata"]["name"], first["metadata"]["name"]);
  EXPECT_EQ(third["type"], "Warning");
  EXPECT_EQ(third["firstTimestamp"], first["firstTimestamp"]);
  EXPECT_GT(third["lastTimestamp"].get<std::string>(), first["lastTimestamp"].get<std::string>());
}

TEST_F(EventRecorderTest, ADifferentMessageReasonOrTypeIsAnotherEvent) {
  recorder_.record(object_, EventType::Normal, "TopicCreated", "topic a created");
  recorder_.record(object_, EventType::Normal, "TopicCreated", "topic b created");
  recorder_.record(object_, EventType::Normal, "TopicUpdated", "topic a created");
  recorder_.record(object_, EventType::Warning, "TopicCreated", "topic a created");
  recorder_.record(object_, EventType::Normal, "TopicCreated", "topic a created");

  const auto all = events();
  ASSERT_EQ(all.size(), 4u);
  int warnings = 0;
  for (const auto& e : all) {
    if (e["type"] == "Warning") ++warnings;
    const bool repeated = e["type"] == "Normal" && e["reason"] == "TopicCreated" &&
                          e["message"] == "topic a created";
    EXPECT_EQ(e["count"], repeated ? 2 : 1) << e.dump();
  }
  EXPECT_EQ(warnings, 1);
}

TEST_F(EventRecorderTest, ADeletedEventIsRecreated) {
  recorder_.record(object_, EventType::Normal, "Reconciled", "all good");
  const json original = only_event();
  api_.remove(kube::kinds::events(), namespace_.name(), original["metadata"]["name"].get<std::string>());

  recorder_.record(object_, EventType::Normal, "Reconciled", "all good");
  const json recreated = only_event();
  EXPECT_NE(recreated["metadata"]["name"], original["metadata"]["name"].get<std::string>());
  EXPECT_EQ(recreated["count"], 1);

  recorder_.record(object_, EventType::Normal, "Reconciled", "all good");
  EXPECT_EQ(only_event()["count"], 2) << "repeats go to the new Event";
}

TEST_F(EventRecorderTest, ARepeatAfterTenQuietMinutesStartsANewEvent) {
  ManualClock clock;
  kube::EventRecorder recorder(api_, kComponent, kInstance, clock);
  recorder.record(object_, EventType::Normal, "Reconciled", "all good");
  clock.advance(9min);
  recorder.record(object_, EventType::Normal, "Reconciled", "all good");
  EXPECT_EQ(only_event()["count"], 2);
  clock.advance(10min);
  recorder.record(object_, EventType::Normal, "Reconciled", "all good");
  const auto all = events();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["count"].get<int>() + all[1]["count"].get<int>(), 3);
}

TEST_F(EventRecorderTest, LongMessagesAreCutTo1024Bytes) {
  recorder_.record(object_, EventType::Warning, "KafkaUnavailable", std::string(3000, 'e'));
  const std::string message = only_event()["message"];
  EXPECT_EQ(message.size(), 1024u);
  EXPECT_EQ(message.substr(1021), "...");
}

TEST_F(EventRecorderTest, ConcurrentRepeatsFromSeveralThreadsAggregateIntoOneEvent) {
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([this] {
      for (int i = 0; i < 5; ++i) {
        recorder_.record(object_, EventType::Warning, "ReconcileFailed", "Kafka unreachable");
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(only_event()["count"], 20);
}

TEST_F(EventRecorderTest, EventsAboutClusterScopedObjectsGoToTheDefaultNamespace) {
  object_ = api_.get(kube::kinds::namespaces(), "", namespace_.name());
  recorder_.record(object_, EventType::Normal, "Observed", "namespace seen");
  const auto in_default = events("default");
  ASSERT_EQ(in_default.size(), 1u);
  EXPECT_FALSE(in_default[0]["involvedObject"].contains("namespace"));
  EXPECT_EQ(in_default[0]["involvedObject"]["kind"], "Namespace");
  api_.remove(kube::kinds::events(), "default", in_default[0]["metadata"]["name"].get<std::string>());
}

TEST_F(EventRecorderTest, AnUnreachableApiServerIsLoggedNotThrown) {
  // Nothing listens on port 1: the connection is refused at once.
  auto endpoint = kube::load_kubeconfig(testenv::require("KUBECONFIG"));
  endpoint.server = "https://127.0.0.1:1";
  kube::RestClient unreachable(endpoint, std::chrono::seconds(2));
  kube::ApiClient api(unreachable);
  kube::EventRecorder recorder(api, kComponent, kInstance);

  const auto before = std::chrono::steady_clock::now();
  EXPECT_NO_THROW(recorder.record(object_, EventType::Warning, "KafkaUnavailable", "down"));
  EXPECT_NO_THROW(recorder.record(object_, EventType::Warning, "KafkaUnavailable", "down"));
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
}

TEST_F(EventRecorderTest, AForbiddenWriteIsLoggedNotThrown) {
  kube::RestClient user(testenv::endpoint_with_token(testenv::require("OUTFLOW_TEST_KUBE_USER_TOKEN")));
  kube::ApiClient api(user);
  kube::EventRecorder recorder(api, kComponent, kInstance);
  EXPECT_NO_THROW(recorder.record(object_, EventType::Normal, "Reconciled", "all good"));
  EXPECT_TRUE(events().empty());
}

TEST_F(EventRecorderTest, AnObjectWithoutNameIsLoggedNotThrown) {
  EXPECT_NO_THROW(recorder_.record(json{{"kind", "ConfigMap"}}, EventType::Normal, "R", "m"));
  EXPECT_NO_THROW(recorder_.record(json("garbage"), EventType::Normal, "R", "m"));
  EXPECT_NO_THROW(recorder_.record(object_, EventType::Normal, "R", "bad utf-8: \xFF\xFE"));
  const json event = only_event();
  EXPECT_EQ(event["message"], "bad utf-8: \xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace outflow
