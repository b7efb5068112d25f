// The shipped executables, run as a user runs them.

#include "e2e/shell.h"
#include "outflow/version.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <unistd.h>

using outflow::e2e::shell;

TEST(OperatorBinary, VersionPrintsTheProjectVersion) {
  const auto r = shell(OUTFLOW_OPERATOR_BIN " --version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, std::string("outflow-operator ") + outflow::kVersion + "\n");
}

TEST(OperatorBinary, HelpListsEveryFlag) {
  const auto r = shell(OUTFLOW_OPERATOR_BIN " --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--kubeconfig", "--namespaces", "--leader-elect", "--metrics-addr",
                           "--health-addr", "--log-format", "--log-level", "--resync-period"}) {
    EXPECT_NE(r.output.find(flag), std::string::npos) << flag << " missing from:\n" << r.output;
  }
}

TEST(OperatorBinary, InvalidFlagValueFailsNamingTheFlag) {
  const auto r = shell(OUTFLOW_OPERATOR_BIN " --resync-period soon");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--resync-period"), std::string::npos) << r.output;
}

TEST(AgentBinary, VersionPrintsTheProjectVersion) {
  const auto r = shell(OUTFLOW_AGENT_BIN " --version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, std::string("outflow-agent ") + outflow::kVersion + "\n");
}

TEST(AgentBinary, MissingConfigFileFailsNamingIt) {
  const auto r = shell(OUTFLOW_AGENT_BIN " --config /nonexistent/agent.yaml");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("/nonexistent/agent.yaml"), std::string::npos) << r.output;
}

TEST(AgentBinary, InvalidConfigurationFailsFastNamingEverySetting) {
  const std::string path = "/tmp/outflow-e2e-bad-agent-" + std::to_string(getpid()) + ".json";
  {
    std::ofstream out(path);
    out << R"({"apiVersion": "outflow.dev/v1alpha1", "kind": "AgentConfig", "metadata": {"name": "orders"},
              "kafka": {"bootstrapServers": []}, "topics": [], "outbox": {}})";
  }
  const auto r = shell("env -u POD_NAME -u POD_NAMESPACE " OUTFLOW_AGENT_BIN " --config " + path);
  std::remove(path.c_str());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  for (const char* setting : {"kafka.bootstrapServers", "topics", "outbox.defaultTopic", "outbox.databaseUrl"}) {
    EXPECT_NE(r.output.find(setting), std::string::npos) << setting << " not named in:\n" << r.output;
  }
}
