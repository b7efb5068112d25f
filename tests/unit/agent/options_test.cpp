#include "agent/options.h"

#include "unit/cli_parse.h"

#include <gtest/gtest.h>

#include <cstdlib>

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
