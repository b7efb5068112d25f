#include "agent/options.h"

#include "unit/cli_parse.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

using outflow::agent::Options;

namespace {

std::string parse(Options& options, std::vector<std::string> args) {
  return outflow::testing::parse_flags(outflow::agent::add_flags, options, std::move(args));
}

}  // namespace

TEST(AgentOptions, ConfigFileMustExist) {
  unsetenv("OUTFLOW_AGENT_CONFIG");
  Options o;
  const auto error = parse(o, {"--config", "/nonexistent/agent.yaml"});
  EXPECT_NE(error.find("--config"), std::string::npos) << error;
  EXPECT_NE(error.find("/nonexistent/agent.yaml"), std::string::npos) << error;
}

TEST(AgentOptions, ConfigPathMayComeFromTheEnvironment) {
  setenv("OUTFLOW_AGENT_CONFIG", "/dev/null", 1);
  Options o;
  EXPECT_EQ(parse(o, {}), "");
  unsetenv("OUTFLOW_AGENT_CONFIG");
  EXPECT_EQ(o.config_path, "/dev/null");
}

TEST(AgentOptions, AddressesAndLoggingAreValidated) {
  Options o;
  EXPECT_EQ(parse(o, {"--metrics-addr", ":0", "--log-format", "json"}), "");
  EXPECT_EQ(o.metrics_addr, ":0");
  EXPECT_NE(parse(o, {"--health-addr", "localhost"}).find("--health-addr"), std::string::npos);
  EXPECT_NE(parse(o, {"--log-level", "verbose"}).find("--log-level"), std::string::npos);
}

namespace {

// Sets or clears an environment variable for one test and puts back what was
// there: the integration environment exports KUBECONFIG into ctest's shell.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST(AgentOptions, WithoutAKubeconfigTheServiceAccountIsUsed) {
  const ScopedEnv no_kubeconfig("KUBECONFIG", nullptr);
  Options o;
  EXPECT_EQ(parse(o, {}), "");
  EXPECT_EQ(o.kubeconfig, "");
}

TEST(AgentOptions, AKubeconfigComesFromTheFlagOrTheEnvironment) {
  const ScopedEnv kubeconfig("KUBECONFIG", "/etc/outflow/env-kubeconfig");
  Options from_env;
  EXPECT_EQ(parse(from_env, {}), "");
  EXPECT_EQ(from_env.kubeconfig, "/etc/outflow/env-kubeconfig");
  Options from_flag;
  EXPECT_EQ(parse(from_flag, {"--kubeconfig", "/home/dev/.kube/config"}), "");
  EXPECT_EQ(from_flag.kubeconfig, "/home/dev/.kube/config");
}

TEST(AgentOptions, TheStatusIntervalDefaultsToFiveSeconds) {
  Options o;
  EXPECT_EQ(parse(o, {}), "");
  EXPECT_EQ(o.status_interval, std::chrono::seconds(5));
}

TEST(AgentOptions, TheStatusIntervalTakesADurationWithItsUnit) {
  Options o;
  EXPECT_EQ(parse(o, {"--status-interval", "1500ms"}), "");
  EXPECT_EQ(o.status_interval, std::chrono::milliseconds(1500));
  EXPECT_EQ(parse(o, {"--status-interval=1m30s"}), "");
  EXPECT_EQ(o.status_interval, std::chrono::seconds(90));
}

TEST(AgentOptions, TheStatusIntervalIsAtMostAnHour) {
  Options o;
  EXPECT_EQ(parse(o, {"--status-interval", "1h"}), "");
  const auto error = parse(o, {"--status-interval", "2h"});
  EXPECT_NE(error.find("at most 1h"), std::string::npos) << error;
}

TEST(AgentOptions, TheStatusIntervalMustBeAPositiveDurationWithAUnit) {
  for (const std::string bad : {"0s", "0ms", "-5s", "5", "fast", ""}) {
    Options o;
    const auto error = parse(o, {"--status-interval", bad});
    EXPECT_NE(error.find("--status-interval"), std::string::npos) << "\"" << bad << "\": " << error;
    EXPECT_NE(error.find("positive duration"), std::string::npos) << "\"" << bad << "\": " << error;
    EXPECT_EQ(o.status_interval, std::chrono::seconds(5)) << bad;
  }
}
