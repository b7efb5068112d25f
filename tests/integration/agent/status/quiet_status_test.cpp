// How much idle agents cost everyone who watches EventPipelines: 3 pipelines
// with 3 agent pods each, nothing to publish, and a watch that counts every
// write to the pipelines and to Leases in a window. Liveness is each pod's
// Ready condition, which kubelet keeps anyway: no agent writes for it.
// OUTFLOW_QUIET_STATUS_SECONDS sets the window (default 60; the figure in
// the README is for 300).

#include "agent/agent_fixture.h"
#include "agent/outbox_fixture.h"
#include "common/pipeline/spec.h"
#include "operator/workloads/agent_config.h"
#include "testenv.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace outflow::agent_tests {
namespace {

int window_seconds() {
  const char* text = std::getenv("OUTFLOW_QUIET_STATUS_SECONDS");
  return text != nullptr && *text != '\0' ? std::stoi(text) : 60;
}

// Writes to `kind` in `ns` over `seconds`, as a watcher sees them: one
// ADDED/MODIFIED/DELETED event per write.
int count_writes(kube::RestClient& rest, const kube::ResourceKind& kind, const std::string& ns,
                 const std::string& resource_version, int seconds) {
  const auto prefix = kind.group.empty() ? "/api/" + kind.version : "/apis/" + kind.group + "/" + kind.version;
  const auto path = prefix + "/namespaces/" + ns + "/" + kind.plural + "?watch=1&allowWatchBookmarks=false" +
                    "&resourceVersion=" + resource_version + "&timeoutSeconds=" + std::to_string(seconds);
  int writes = 0;
  kube::StreamCancel cancel;
  rest.stream_lines(
      path,
      [&](std::string_view line) {
        const auto event = json::parse(line, nullptr, false);
        if (event.is_object() && event.value("type", "") != "BOOKMARK" && event.value("type", "") != "ERROR") {
          ++writes;
        }
        return true;
      },
      cancel, std::chrono::seconds(seconds + 30));
  return writes;
}

class QuietStatusTest : public ::testing::Test {
 protected:
  QuietStatusTest() : rest_(testenv::admin_client()), api_(rest_) {
    testenv::apply_crd_and_wait_established(rest_);
    namespace_ = std::make_unique<testenv::ScopedNamespace>(rest_, "quiet");
    ns_ = namespace_->name();
    topic_ = testenv::create_topic(3);
    dir_ = testenv::unique_name("/tmp/outflow-quiet-test");
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/database-url") << testenv::require("OUTFLOW_TEST_PG_URL");
  }
  ~QuietStatusTest() override {
    for (auto& agent : agents_) {
      if (agent->running()) {
        EXPECT_EQ(agent->terminate(), 0) << agent->pod();
      }
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Creates pipeline `name` on its own outbox and starts `pods` agents for it
  // with the production status settings (no test-speed interval).
  void start_pipeline(const std::string& name, testenv::OutboxDb& db, int pods) {
    const json spec = {{"kafka", {{"bootstrapServers", {testenv::require("OUTFLOW_TEST_KAFKA_PLAINTEXT")}}}},
                       {"topics", json::array({{{"name", topic_}, {"partitions", 3}, {"replicationFactor", 1}}})},
                       {"outbox",
                        {{"databaseSecretRef", {{"name", "orders-db"}, {"key", "url"}}},
                         {"table", db.table()},
                         {"defaultTopic", topic_}}},
                       {"agent", {{"replicas", pods}}},
                       {"alerts", {{"defaults", false}}}};
    const auto created = api_.create(kube::kinds::event_pipelines(), ns_,
                                     {{"apiVersion", "outflow.dev/v1alpha1"},
                                      {"kind", "EventPipeline"},
                                      {"metadata", {{"name", name}, {"namespace", ns_}}},
                                      {"spec", spec}});
    const op::workloads::PipelineIdentity identity{ns_, name, created["metadata"].value("uid", "")};
    auto config = op::workloads::agent_config(identity, pipeline::parse_spec(spec));
    config["outbox"]["databaseUrl"] = {{"file", dir_ + "/database-url"}};
    const auto path = dir_ + "/" + name + ".yaml";
    std::ofstream(path) << op::workloads::render_agent_config(config);
    for (int i = 0; i < pods; ++i) {
      agents_.push_back(std::make_unique<AgentProcess>(name + "-agent-" + std::to_string(i), ns_, path,
                                                       std::vector<std::string>{"--status-interval=5s"}));
    }
  }

  std::size_t entries_written() {
    std::size_t entries = 0;
    const json list = api_.list(kube::kinds::event_pipelines(), ns_);
    for (const auto& p : list.at("items")) {
      if (p.contains("status")) entries += p["status"].value("agents", json::array()).size();
    }
    return entries;
  }

  kube::RestClient rest_;
  kube::ApiClient api_;
  std::unique_ptr<testenv::ScopedNamespace> namespace_;
  std::string ns_;
  std::string topic_;
  std::string dir_;
  std::vector<std::unique_ptr<AgentProcess>> agents_;
};

TEST_F(QuietStatusTest, IdleAgentsDoNotRewriteTheirPipelines) {
  testenv::OutboxDb dbs[3];
  for (int p = 0; p < 3; ++p) start_pipeline("orders-" + std::to_string(p), dbs[p], 3);
  ASSERT_TRUE(eventually([&] { return entries_written() == 9; }, 60s)) << "not every agent reported";
  for (auto& agent : agents_) {
    ASSERT_TRUE(eventually([&] { return testenv::http_get(agent->health_port(), "/readyz").first == 200; }, 60s))
        << agent->pod() << "\n" << agent->log();
  }
  // First measurements (backlog, oldest age) are news once; then nothing is.
  std::this_thread::sleep_for(15s);

  const int seconds = window_seconds();
  const auto pipelines_rv =
      api_.list(kube::kinds::event_pipelines(), ns_).at("metadata").value("resourceVersion", "");
  const auto leases_rv = api_.list(kube::kinds::leases(), ns_).at("metadata").value("resourceVersion", "");
  int lease_writes = 0;
  std::thread leases([&] {
    kube::RestClient own(testenv::admin_client());
    lease_writes = count_writes(own, kube::kinds::leases(), ns_, leases_rv, seconds);
  });
  const int pipeline_writes = count_writes(rest_, kube::kinds::event_pipelines(), ns_, pipelines_rv, seconds);
  leases.join();
  std::printf("3 pipelines x 3 idle agents, %d s: %d writes to EventPipelines, %d writes to Leases\n", seconds,
              pipeline_writes, lease_writes);
  EXPECT_EQ(pipeline_writes, 0) << "idle agents rewrote their status entries";
  EXPECT_EQ(lease_writes, 0) << "idle agents wrote Leases";
  EXPECT_TRUE(api_.list(kube::kinds::leases(), ns_).at("items").empty()) << "an agent created a Lease";
  for (auto& agent : agents_) EXPECT_TRUE(agent->running()) << agent->pod() << "\n" << agent->log();
}

}  // namespace
}  // namespace outflow::agent_tests
