// charts/outflow/argocd/health.lua on EventPipelines exactly as the real
// operator wrote their status (read back from the API server, not written by
// hand): Healthy when Ready, Degraded on what a person must fix, Progressing
// while converging or retrying or before the operator saw a new generation,
// Suspended while paused.

#include "operator/operator_fixture.h"
#include "testenv.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <tuple>
#include <sys/wait.h>

namespace outflow::operator_tests {
namespace {

std::string lua_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += "\\" + std::to_string(static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// JSON as the Lua table Argo CD hands the script: objects keyed by name,
// arrays from 1, null as absent.
std::string lua_table(const json& value) {
  if (value.is_object()) {
    std::string out = "{";
    for (const auto& [key, item] : value.items()) {
      if (!item.is_null()) out += "[" + lua_string(key) + "] = " + lua_table(item) + ", ";
    }
    return out + "}";
  }
  if (value.is_array()) {
    std::string out = "{";
    for (const auto& item : value) out += lua_table(item) + ", ";
    return out + "}";
  }
  if (value.is_string()) return lua_string(value.get<std::string>());
  if (value.is_null()) return "nil";
  return value.dump();  // numbers, booleans
}

class ArgoCdHealth : public OperatorTest {};

TEST_F(ArgoCdHealth, ClassifiesStatusesTheOperatorWrote) {
  start_operator();
  const auto topics = [&](const std::string& prefix) {
    return json::array({{{"name", unique_topic(prefix)}, {"partitions", 1}, {"replicationFactor", 1}}});
  };
  std::vector<std::tuple<std::string, std::string, json>> cases;  // name, want, object

  apply(pipeline("healthy", topics("argo-healthy")));
  cases.emplace_back("Ready", "Healthy", wait_for_condition("healthy", "Ready", "True", "Reconciled"));

  auto unreachable = pipeline("unreachable", topics("argo-unreachable"));
  unreachable["spec"]["kafka"]["bootstrapServers"] = {"127.0.0.1:1"};
  apply(unreachable);
  cases.emplace_back("Kafka unreachable (retried)", "Progressing",
                     wait_for_condition("unreachable", "Ready", "False", "KafkaUnreachable"));

  auto starting = pipeline("starting", topics("argo-starting"));
  starting["spec"]["agent"]["replicas"] = 1;  // no node: its pod never starts
  apply(starting);
  cases.emplace_back("agents starting", "Progressing",
                     wait_for_condition("starting", "Ready", "False", "AgentsProgressing"));

  auto no_secret = pipeline("nosecret", topics("argo-nosecret"));
  no_secret["spec"]["outbox"]["databaseSecretRef"]["name"] = "missing-db";
  no_secret["spec"]["agent"]["replicas"] = 1;
  apply(no_secret);
  cases.emplace_back("Secret missing", "Degraded", wait_for_condition("nosecret", "Ready", "False", "SecretNotFound"));

  auto image = pipeline("image", topics("argo-image"));
  image["spec"]["agent"]["image"] = "registry.example/someone-elses-agent:1";
  apply(image);
  cases.emplace_back("agent image not allowed", "Degraded",
                     wait_for_condition("image", "Ready", "False", "AgentImageNotAllowed"));

  auto paused = pipeline("paused", topics("argo-paused"));
  paused["spec"]["paused"] = true;
  apply(paused);
  cases.emplace_back("paused", "Suspended", wait_for_condition("paused", "Ready", "False", "Paused"));

  // A spec change the operator has not processed yet: stopped, it cannot.
  ASSERT_EQ(operators_.back()->terminate(), 0);
  auto changed = get("healthy");
  changed["spec"]["topics"][0]["partitions"] = 2;
  const auto stale = api_.replace(kube::kinds::event_pipelines(), ns_, changed);
  ASSERT_NE(stale["status"].value("observedGeneration", 0), stale["metadata"].value("generation", 0));
  cases.emplace_back("new generation not yet seen", "Progressing", stale);

  std::ostringstream lua;
  lua << "return {\n";
  for (const auto& [name, want, object] : cases) {
    lua << "  {name = " << lua_string(name) << ", want = " << lua_string(want) << ", obj = " << lua_table(object)
        << "},\n";
  }
  lua << "}\n";
  const auto dir = testenv::unique_name("/tmp/outflow-argocd");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/cases.lua") << lua.str();
  // OUTFLOW_ARGOCD_HEALTH_LUA runs another version of the script (a red run).
  const char* other_script = std::getenv("OUTFLOW_ARGOCD_HEALTH_LUA");
  const std::string script = other_script != nullptr && *other_script != '\0'
                                 ? std::string(other_script)
                                 : testenv::source_path("charts/outflow/argocd/health.lua");
  const auto command = std::string(OUTFLOW_LUA) + " " +
                       testenv::source_path("tests/integration/charts/argocd_health_captured.lua") + " " + script +
                       " " + dir + "/cases.lua > " + dir + "/out.txt 2>&1";
  const int status = std::system(command.c_str());
  const auto output = testenv::read_text(dir + "/out.txt");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output << "\ncases: " << dir << "/cases.lua";
  std::cout << output;
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace outflow::operator_tests
