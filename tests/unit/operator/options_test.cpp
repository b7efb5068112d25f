#include "operator/options.h"

#include "unit/cli_parse.h"

#include <gtest/gtest.h>

#include <cstdlib>

using outflow::op::Options;
using namespace std::chrono_literals;

namespace {

std::string parse(Options& options, std::vector<std::string> args) {
  return outflow::testing::parse_flags(outflow::op::add_flags, options, std::move(args));
}

}  // namespace

TEST(OperatorOptions, DefaultsWatchAllNamespacesWithoutLeaderElection) {
  unsetenv("KUBECONFIG");
  unsetenv("POD_NAMESPACE");
  unsetenv("OUTFLOW_AGENT_IMAGE");
  Options o;
  ASSERT_EQ(parse(o, {}), "");
  EXPECT_TRUE(o.namespaces.empty());
  EXPECT_FALSE(o.leader_elect);
  EXPECT_EQ(o.resync_period, 10min);
  EXPECT_EQ(o.metrics_addr, ":8080");
  EXPECT_EQ(o.log_format, "text");
}

TEST(OperatorOptions, ParsesEveryFlag) {
  Options o;
  ASSERT_EQ(parse(o, {"--kubeconfig", "/k", "--namespaces", "a,b", "--leader-elect",
                      "--leader-election-namespace", "outflow-system", "--agent-image", "agent:1",
                      "--metrics-addr", "127.0.0.1:9000", "--health-addr", ":9001",
                      "--log-format", "json", "--log-level", "debug", "--resync-period", "45s"}),
            "");
  EXPECT_EQ(o.kubeconfig, "/k");
  EXPECT_EQ(o.namespaces, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(o.leader_elect);
  EXPECT_EQ(o.leader_election_namespace, "outflow-system");
  EXPECT_EQ(o.agent_image, "agent:1");
  EXPECT_EQ(o.metrics_addr, "127.0.0.1:9000");
  EXPECT_EQ(o.health_addr, ":9001");
  EXPECT_EQ(o.log_format, "json");
  EXPECT_EQ(o.log_level, "debug");
  EXPECT_EQ(o.resync_period, 45s);
}

TEST(OperatorOptions, InvalidValuesAreRejectedNamingTheFlag) {
  Options o;
  EXPECT_NE(parse(o, {"--resync-period", "10"}).find("--resync-period"), std::string::npos);
  EXPECT_NE(parse(o, {"--resync-period", "0s"}).find("--resync-period"), std::string::npos);
  EXPECT_NE(parse(o, {"--metrics-addr", "8080"}).find("--metrics-addr"), std::string::npos);
  EXPECT_NE(parse(o, {"--log-format", "xml"}).find("--log-format"), std::string::npos);
  EXPECT_NE(parse(o, {"--log-level", "chatty"}).find("--log-level"), std::string::npos);
  EXPECT_NE(parse(o, {"--no-such-flag"}), "");
}
