// End to end: the operator reconciles an EventPipeline, and the agent runs
// exactly as the Deployment the operator wrote says (its args, its ConfigMap,
// its Secret volumes, its ServiceAccount's RBAC). No kubelet runs here, so
// the test plays kubelet: it materialises the volumes and starts the process.

#include "agent/outbox_fixture.h"
#include "child_process.h"
#include "operator_fixture.h"
#include "testenv.h"

#include <filesystem>
#include <fstream>

namespace outflow::operator_tests {
namespace {

std::string base64_decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : in) {
    const int v = value(c);
    if (v < 0) continue;  // padding
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

class PipelineE2eTest : public OperatorTest {
 protected:
  ~PipelineE2eTest() override {
    std::error_code ignored;
    if (!root_.empty()) std::filesystem::remove_all(root_, ignored);
    if (!kubeconfig_.empty()) std::remove(kubeconfig_.c_str());
  }

  // What a kubelet would do for the Deployment's pod template: mount the
  // ConfigMap and Secret volumes (under root_), set the downward-API env and
  // the ServiceAccount's token, and run the container's command.
  std::unique_ptr<testenv::ChildProcess> run_agent_pod(const json& deployment, const std::string& pod,
                                                       int& health_port) {
    root_ = testenv::unique_name("/tmp/outflow-e2e-pod");
    const auto& template_spec = deployment["spec"]["template"]["spec"];
    const auto& container = template_spec["containers"][0];
    std::map<std::string, std::string> mount_paths;
    for (const auto& m : container["volumeMounts"]) mount_paths[m["name"]] = m["mountPath"];
    std::vector<std::string> mounted;
    for (const auto& volume : template_spec["volumes"]) {
      const std::string name = volume["name"];
      const auto dir = root_ + mount_paths.at(name);
      std::filesystem::create_directories(dir);
      if (volume.contains("configMap")) {
        const auto cm = api_.get(kube::kinds::config_maps(), ns_, volume["configMap"]["name"].get<std::string>());
        for (const auto& [file, text] : cm["data"].items()) std::ofstream(dir + "/" + file) << text.get<std::string>();
      } else if (volume.contains("secret")) {
        const auto secret = api_.get(kube::kinds::secrets(), ns_, volume["secret"]["secretName"].get<std::string>());
        for (const auto& item : volume["secret"]["items"]) {
          std::ofstream(dir + "/" + item["path"].get<std::string>())
              << base64_decode(secret["data"][item["key"].get<std::string>()]);
        }
      }
      if (mount_paths.at(name) != "/tmp") mounted.push_back(mount_paths.at(name));
    }
    // The config names files by their in-pod paths; here they live under root_.
    for (const auto& path : mounted) {
      for (const auto& entry : std::filesystem::directory_iterator(root_ + path)) {
        if (entry.path().extension() != ".yaml") continue;
        std::ifstream in(entry.path());
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        for (const auto& other : mounted) replace_all(text, "\"" + other + "/", "\"" + root_ + other + "/");
        std::ofstream(entry.path()) << text;
      }
    }

    kubeconfig_ = testenv::write_token_kubeconfig(
        testenv::service_account_token(rest_, ns_, template_spec["serviceAccountName"]));
    health_port = testenv::free_port();
    std::vector<std::string> argv{OUTFLOW_AGENT_BIN, "--kubeconfig=" + kubeconfig_};
    for (std::string arg : container["args"]) {
      if (arg.rfind("--config=", 0) == 0) arg = "--config=" + root_ + arg.substr(9);
      if (arg.rfind("--metrics-addr=", 0) == 0) arg = "--metrics-addr=127.0.0.1:" + std::to_string(testenv::free_port());
      if (arg.rfind("--health-addr=", 0) == 0) arg = "--health-addr=127.0.0.1:" + std::to_string(health_port);
      argv.push_back(arg);
    }
    std::map<std::string, std::string> env;
    for (const auto& e : container["env"]) {
      const std::string field = e["valueFrom"]["fieldRef"]["fieldPath"];
      env[e["name"]] = field == "metadata.name" ? pod : ns_;
    }
    // The Pod object the operator expects to see for a live agent.
    api_.create(kube::kinds::pods(), ns_,
                {{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata", {{"name", pod}, {"labels", deployment["spec"]["selector"]["matchLabels"]}}},
                 {"spec", {{"containers", {{{"name", "agent"}, {"image", container["image"]}}}}}}});
    return std::make_unique<testenv::ChildProcess>(std::move(argv), env);
  }

  std::string root_;
  std::string kubeconfig_;
};

TEST_F(PipelineE2eTest, TheAgentTheOperatorDeployedPublishesTheOutboxAndReportsIntoStatus) {
  testenv::OutboxDb db;
  api_.merge_patch(kube::kinds::secrets(), ns_, "orders-db",
                   {{"stringData", {{"url", testenv::require("OUTFLOW_TEST_PG_URL")}}}});
  const auto topic = unique_topic("e2e");
  auto object = pipeline("shop", json::array({{{"name", topic}, {"partitions", 3}, {"replicationFactor", 1}}}));
  object["spec"]["outbox"]["table"] = db.table();
  object["spec"]["agent"]["replicas"] = 1;
  start_operator();
  apply(object);
  wait_for_condition("shop", "TopicsReady", "True");
  json deployment;
  ASSERT_TRUE(eventually(
      [&] {
        const auto d = api_.get_if_exists(kube::kinds::deployments(), ns_, "shop-agent");
        if (d) deployment = *d;
        return d.has_value();
      },
      30s));

  int health_port = 0;
  auto agent = run_agent_pod(deployment, "shop-agent-5d8f7-x2x4q", health_port);
  db.insert_many(100, 10);
  const auto got = testenv::read_topic(topic, 100, 30s);
  EXPECT_EQ(got.size(), 100u);
  ASSERT_TRUE(eventually([&] { return db.pending() == 0; }, 20s));

  // The agent's entry, written with the ServiceAccount's own token, and the
  // operator's roll-up of it.
  wait_for_condition("shop", "BreakersClosed", "True", "", 30s);
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& e : get("shop")["status"].value("agents", json::array())) {
          if (e.value("pod", "") == "shop-agent-5d8f7-x2x4q" && e.value("publishedTotal", 0) == 100) return true;
        }
        return false;
      },
      20s))
      << get("shop")["status"].dump(2);
  EXPECT_EQ(testenv::http_get(health_port, "/readyz").first, 200);

  // That token may write this pipeline's status and nothing else.
  apply(pipeline("other", json::array({{{"name", unique_topic("e2e-other")}, {"partitions", 1},
                                        {"replicationFactor", 1}}})));
  kube::RestClient as_agent(testenv::endpoint_with_token(
      testenv::service_account_token(rest_, ns_, deployment["spec"]["template"]["spec"]["serviceAccountName"])));
  const json patch = {{"status", {{"agents", json::array({{{"pod", "intruder"}}})}}}};
  const auto other = as_agent.request(kube::Method::Patch,
                                      "/apis/outflow.dev/v1alpha1/namespaces/" + ns_ + "/eventpipelines/other/status",
                                      &patch, "application/merge-patch+json");
  EXPECT_EQ(other.status, 403) << other.text;
  const auto spec_write = as_agent.request(kube::Method::Patch,
                                           "/apis/outflow.dev/v1alpha1/namespaces/" + ns_ + "/eventpipelines/shop",
                                           &patch, "application/merge-patch+json");
  EXPECT_EQ(spec_write.status, 403) << spec_write.text;

  EXPECT_EQ(agent->terminate(), 0) << agent->log();
  if (HasFailure()) std::cerr << agent->log() << "\n";
}

}  // namespace
}  // namespace outflow::operator_tests
