// The status reporter against the real API server and the real EventPipeline
// CRD: pods writing side by side with the operator, a breaker transition
// arriving in time, the final write, and the failures an agent must survive
// (pipeline missing, RBAC refusing).

#include "agent/status/status_entry.h"
#include "agent/status/status_reporter.h"
#include "common/kube/api_client.h"
#include "common/time_format.h"
#include "kube_helpers.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace outflow;
using namespace std::chrono_literals;
using agent::AgentState;
using agent::StatusReporter;
using nlohmann::json;
using State = breaker::State;

namespace {

// What the publisher would hand the reporter: a state another thread changes.
class SharedState {
 public:
  explicit SharedState(AgentState initial = {}) : state_(std::move(initial)) {}

  AgentState get() const {
    std::lock_guard lock(mutex_);
    return state_;
  }
  void update(const std::function<void(AgentState&)>& change) {
    std::lock_guard lock(mutex_);
    change(state_);
  }
  StatusReporter::StateSource source() const {
    return [this] { return get(); };
  }

 private:
  mutable std::mutex mutex_;
  AgentState state_;
};

// Polls `condition` every 20 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::optional<json> entry_for(const json& pipeline, const std::string& pod) {
  const auto status = pipeline.find("status");
  if (status == pipeline.end() || !status->contains("agents")) return std::nullopt;
  for (const auto& entry : status->at("agents")) {
    if (entry.value("pod", "") == pod) return entry;
  }
  return std::nullopt;
}

std::size_t code_points(const std::string& text) {
  std::size_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

class StatusReporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rest_ = std::make_unique<kube::RestClient>(testenv::admin_client());
    api_ = std::make_unique<kube::ApiClient>(*rest_);
    ASSERT_NO_THROW(testenv::apply_crd_and_wait_established(*rest_));
    ns_ = std::make_unique<testenv::ScopedNamespace>(*rest_, "status");
    auto pipeline = testenv::read_manifest(testenv::source_path("crds/examples/minimal.yaml"));
    const auto created = api_->create(kube::kinds::event_pipelines(), ns_->name(), pipeline);
    pipeline_ = {ns_->name(), created.at("metadata").at("name").get<std::string>(),
                 created.at("metadata").at("uid").get<std::string>()};
  }

  void TearDown() override { ns_.reset(); }

  json get_pipeline() { return api_->get(kube::kinds::event_pipelines(), pipeline_.namespace_name, pipeline_.name); }

  // Waits until `pod`'s entry satisfies `check`; the entry, or nullopt after `timeout`.
  std::optional<json> wait_for_entry(const std::string& pod, const std::function<bool(const json&)>& check,
                                     std::chrono::milliseconds timeout = 10s) {
    std::optional<json> found;
    eventually([&] {
      found = entry_for(get_pipeline(), pod);
      return found && check(*found);
    }, timeout);
    return found && check(*found) ? found : std::nullopt;
  }

  // What the operator writes: conditions, as its own field manager.
  void apply_operator_condition(const std::string& status) {
    const json body = {{"apiVersion", "outflow.dev/v1alpha1"},
                       {"kind", "EventPipeline"},
                       {"metadata", {{"name", pipeline_.name}, {"namespace", pipeline_.namespace_name}}},
                       {"status",
                        {{"conditions",
                          {{{"type", "Ready"},
                            {"status", status},
                            {"lastTransitionTime", format_rfc3339(std::chrono::system_clock::now())},
                            {"reason", "Reconciled"},
                            {"message", "written by the test as the operator"}}}}}}};
    api_->server_side_apply(kube::kinds::event_pipelines(), pipeline_.namespace_name, pipeline_.name, body,
                            "outflow-operator", true, "status");
  }

  std::unique_ptr<kube::RestClient> rest_;
  std::unique_ptr<kube::ApiClient> api_;
  std::unique_ptr<testenv::ScopedNamespace> ns_;
  agent::PipelineRef pipeline_;
};

}  // namespace

TEST_F(StatusReporterTest, TwoPodsReportSideBySideAndTheOperatorsConditionsSurvive) {
  apply_operator_condition("True");

  AgentState a_initial;
  a_initial.breaker = State::Open;
  a_initial.breaker_since = std::chrono::system_clock::now();
  a_initial.outbox_backlog = 5;
  a_initial.last_error = "Local: Broker transport failure";
  SharedState a(a_initial);
  SharedState b;
  // A short interval, so the two pods write over each other for a while.
  StatusReporter reporter_a(*api_, pipeline_, "orders-agent-a", a.source(), 100ms);
  StatusReporter reporter_b(*api_, pipeline_, "orders-agent-b", b.source(), 100ms);

  // Counters move on both pods (no news on their own), then dead letters pile
  // up tenfold on each: a material change, written with the counters as they
  // are by then.
  for (int i = 1; i <= 10; ++i) {
    a.update([i](AgentState& s) {
      s.published_total = 100 * i;
      s.dlq_pending = i == 10 ? 20 : 0;
    });
    b.update([i](AgentState& s) {
      s.published_total = 200 * i;
      s.dlq_pending = i == 10 ? 30 : 0;
    });
    std::this_thread::sleep_for(50ms);
  }
  const auto entry_a = wait_for_entry("orders-agent-a", [](const json& e) { return e.value("publishedTotal", 0) == 1000; });
  const auto entry_b = wait_for_entry("orders-agent-b", [](const json& e) { return e.value("publishedTotal", 0) == 2000; });
  ASSERT_TRUE(entry_a) << get_pipeline()["status"].dump(2);
  ASSERT_TRUE(entry_b) << get_pipeline()["status"].dump(2);

  EXPECT_EQ((*entry_a)["breaker"], "Open");
  EXPECT_EQ((*entry_a)["since"], format_rfc3339(a_initial.breaker_since));
  EXPECT_EQ((*entry_a)["outboxBacklog"], 5);
  EXPECT_EQ((*entry_a)["lastError"], "Local: Broker transport failure");
  EXPECT_TRUE(parse_rfc3339((*entry_a)["heartbeatTime"].get<std::string>()).has_value());
  EXPECT_EQ((*entry_b)["breaker"], "Closed");
  EXPECT_FALSE(entry_b->contains("lastError")) << entry_b->dump();
  EXPECT_FALSE(entry_b->contains("outboxBacklog")) << entry_b->dump();
  // The entry is on the server a moment before the write's answer reaches the reporter.
  EXPECT_TRUE(eventually([&] { return reporter_a.api_reachable(); }, 2s));
  EXPECT_TRUE(eventually([&] { return reporter_b.api_reachable(); }, 2s));
  EXPECT_EQ(reporter_a.last_error(), "");
  EXPECT_GE(reporter_a.write_attempts(), 2u);
  EXPECT_GE(reporter_b.write_attempts(), 2u);

  // The operator's condition is untouched, and each writer owns only its part.
  const auto pipeline = get_pipeline();
  ASSERT_EQ(pipeline["status"]["conditions"].size(), 1u) << pipeline["status"].dump(2);
  EXPECT_EQ(pipeline["status"]["conditions"][0]["status"], "True");
  EXPECT_EQ(pipeline["status"]["agents"].size(), 2u);
  std::vector<std::string> status_managers;
  for (const auto& m : pipeline["metadata"]["managedFields"]) {
    if (m.value("subresource", "") == "status") status_managers.push_back(m["manager"]);
  }
  std::sort(status_managers.begin(), status_managers.end());
  EXPECT_EQ(status_managers, (std::vector<std::string>{"outflow-agent/orders-agent-a", "outflow-agent/orders-agent-b",
                                                       "outflow-operator"}));

  // The operator's next write leaves both entries alone.
  apply_operator_condition("False");
  const auto after = get_pipeline();
  EXPECT_EQ(after["status"]["conditions"][0]["status"], "False");
  EXPECT_TRUE(entry_for(after, "orders-agent-a"));
  EXPECT_TRUE(entry_for(after, "orders-agent-b"));
}

TEST_F(StatusReporterTest, AWokenBreakerTransitionReachesTheApiServerWithinTwoSeconds) {
  SharedState state;
  // A heartbeat far away: only the wake can explain a prompt write.
  StatusReporter reporter(*api_, pipeline_, "orders-agent-a", state.source(), 60s);
  ASSERT_TRUE(wait_for_entry("orders-agent-a", [](const json& e) { return e.value("breaker", "") == "Closed"; }));
  ASSERT_TRUE(eventually([&] { return reporter.api_reachable(); }, 2s));

  // A wake with nothing new writes nothing.
  const auto attempts_before = reporter.write_attempts();
  reporter.wake();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(reporter.write_attempts(), attempts_before);

  const auto opened_wall = std::chrono::system_clock::now();
  state.update([&](AgentState& s) {
    s.breaker = State::Open;
    s.breaker_since = opened_wall;
    s.last_error = "Local: All broker connections are down";
  });
  const auto started = std::chrono::steady_clock::now();
  reporter.wake();
  const auto entry = wait_for_entry("orders-agent-a", [](const json& e) { return e.value("breaker", "") == "Open"; }, 5s);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(entry) << "the transition never reached the API server";
  EXPECT_LT(took, 2s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  EXPECT_EQ((*entry)["since"], format_rfc3339(opened_wall));
  EXPECT_EQ((*entry)["lastError"], "Local: All broker connections are down");
}

TEST_F(StatusReporterTest, NothingIsWrittenWhileNothingAPersonActsOnChanges) {
  // Liveness is the pod's Ready condition: an unchanged entry is never rewritten,
  // and publishing alone is no news until the total has grown tenfold.
  SharedState state;
  state.update([](AgentState& s) { s.published_total = 100'000; });
  StatusReporter reporter(*api_, pipeline_, "orders-agent-a", state.source(), 100ms);
  const auto first = wait_for_entry("orders-agent-a", [](const json&) { return true; });
  ASSERT_TRUE(first);
  const auto attempts = reporter.write_attempts();
  for (int i = 1; i <= 20; ++i) {
    state.update([i](AgentState& s) { s.published_total = 100'000 + 1000 * i; });
    std::this_thread::sleep_for(100ms);  // twenty intervals: no write may come of them
  }
  EXPECT_EQ(reporter.write_attempts(), attempts);
  state.update([](AgentState& s) { s.last_error = "Local: Broker transport failure"; });
  EXPECT_TRUE(wait_for_entry("orders-agent-a", [](const json& e) { return e.contains("lastError"); }, 3s))
      << "a new error is news";
}

TEST_F(StatusReporterTest, StopWritesTheFinalEntryBeforeItReturns) {
  SharedState state;
  StatusReporter reporter(*api_, pipeline_, "orders-agent-a", state.source(), 60s);
  ASSERT_TRUE(wait_for_entry("orders-agent-a", [](const json&) { return true; }));

  // A change nobody announced: only the final write can carry it.
  state.update([](AgentState& s) {
    s.published_total = 999;
    s.parked_total = 4;
  });
  reporter.stop();
  const auto entry = entry_for(get_pipeline(), "orders-agent-a");
  ASSERT_TRUE(entry);
  EXPECT_EQ((*entry)["publishedTotal"], 999);
  EXPECT_EQ((*entry)["parkedTotal"], 4);
  EXPECT_EQ(reporter.write_attempts(), 2u);
  reporter.stop();  // idempotent
  EXPECT_EQ(reporter.write_attempts(), 2u);
}

TEST_F(StatusReporterTest, TheApiServerAcceptsALastErrorCutToTheCrdsLimit) {
  // The CRD's maxLength counts characters; a two-byte character per position
  // checks the cut happens at 4096 characters, not bytes, and on a boundary.
  AgentState s;
  for (int i = 0; i < 5000; ++i) s.last_error += "\xC3\xA9";
  SharedState state(s);
  StatusReporter reporter(*api_, pipeline_, "orders-agent-a", state.source(), 60s);
  const auto entry = wait_for_entry("orders-agent-a", [](const json&) { return true; });
  ASSERT_TRUE(entry) << reporter.last_error();
  EXPECT_EQ(code_points((*entry)["lastError"].get<std::string>()), agent::kLastErrorMaxLength);
}

TEST_F(StatusReporterTest, AMissingPipelineIsRetriedWithBackOffUntilItExists) {
  agent::PipelineRef missing = pipeline_;
  missing.name = "not-created-yet";
  SharedState state;
  std::optional<StatusReporter> reporter;
  ASSERT_NO_THROW(reporter.emplace(*api_, missing, "orders-agent-a", state.source(), 1s));

  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(reporter->api_reachable());
  EXPECT_NE(reporter->last_error().find("does not exist"), std::string::npos) << reporter->last_error();
  EXPECT_NE(reporter->last_error().find("not-created-yet"), std::string::npos) << reporter->last_error();
  // Attempts at 0, 0.2, 0.6 and 1.4 s: a back-off, not a request loop.
  EXPECT_GE(reporter->write_attempts(), 3u);
  EXPECT_LE(reporter->write_attempts(), 6u);
  // Writing status must never create the object.
  EXPECT_FALSE(api_->get_if_exists(kube::kinds::event_pipelines(), missing.namespace_name, missing.name));

  // Once the pipeline exists, the next retry (at most an interval away) lands.
  auto manifest = testenv::read_manifest(testenv::source_path("crds/examples/minimal.yaml"));
  manifest["metadata"]["name"] = missing.name;
  api_->create(kube::kinds::event_pipelines(), missing.namespace_name, manifest);
  EXPECT_TRUE(eventually([&] { return reporter->api_reachable(); }, 3s)) << reporter->last_error();
  EXPECT_EQ(reporter->last_error(), "");
  EXPECT_TRUE(entry_for(api_->get(kube::kinds::event_pipelines(), missing.namespace_name, missing.name),
                        "orders-agent-a"));
}

TEST_F(StatusReporterTest, AReporterForAPipelineThatNeverExistsStopsPromptlyWithoutThrowing) {
  agent::PipelineRef missing = pipeline_;
  missing.name = "never-created";
  SharedState state;
  std::optional<StatusReporter> reporter;
  ASSERT_NO_THROW(reporter.emplace(*api_, missing, "orders-agent-a", state.source(), 5s));
  ASSERT_TRUE(eventually([&] { return reporter->write_attempts() >= 2; }, 3s));
  EXPECT_FALSE(reporter->api_reachable());

  const auto started = std::chrono::steady_clock::now();
  ASSERT_NO_THROW(reporter->stop());
  // The back-off does not delay the stop: one final attempt, answered at once.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_FALSE(reporter->api_reachable());
  ASSERT_NO_THROW(reporter.reset());
}

TEST_F(StatusReporterTest, AnRbacRefusalIsReportedAsSuchAndRetried) {
  // The test environment's identity without any grants, like an agent whose
  // Role is missing.
  kube::RestClient user_rest(testenv::endpoint_with_token(testenv::require("OUTFLOW_TEST_KUBE_USER_TOKEN")));
  kube::ApiClient user(user_rest);
  SharedState state;
  StatusReporter reporter(user, pipeline_, "orders-agent-a", state.source(), 5s);
  ASSERT_TRUE(eventually([&] { return reporter.write_attempts() >= 2; }, 3s));
  EXPECT_FALSE(reporter.api_reachable());
  EXPECT_NE(reporter.last_error().find("not allowed to patch the status of pipeline"), std::string::npos)
      << reporter.last_error();
  EXPECT_FALSE(entry_for(get_pipeline(), "orders-agent-a"));
}
