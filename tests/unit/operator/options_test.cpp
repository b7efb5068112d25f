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

TEST(OperatorOptions, DefaultsForWorkersTopicDeletionAndLeaderElectionTiming) {
  Options o;
  ASSERT_EQ(parse(o, {}), "");
  EXPECT_EQ(o.workers, 8);  // reconciles wait on round trips: see the operator benchmark
  EXPECT_EQ(o.topic_deletion_timeout, 5min);
  EXPECT_EQ(o.leader_election_id, "outflow-operator");
  // A killed leader's successor takes over within lease + 2 x retry (x 1.2
  // jitter), 12.4 s, which leaves room for the first reconcile inside the
  // 15 s of issue 13; the leader stops writing 3 s before anyone may take over.
  EXPECT_EQ(o.lease_duration, 10s);
  EXPECT_EQ(o.renew_deadline, 7s);
  EXPECT_EQ(o.retry_period, 1s);
  EXPECT_EQ(outflow::op::validate(o), std::nullopt);
}

TEST(OperatorOptions, ParsesWorkersTopicDeletionAndLeaderElectionFlags) {
  Options o;
  ASSERT_EQ(parse(o, {"--workers", "8", "--topic-deletion-timeout", "90s", "--leader-election-id", "my-lease",
                      "--leader-election-lease-duration", "1m", "--leader-election-renew-deadline", "40s",
                      "--leader-election-retry-period", "500ms"}),
            "");
  EXPECT_EQ(o.workers, 8);
  EXPECT_EQ(o.topic_deletion_timeout, 90s);
  EXPECT_EQ(o.leader_election_id, "my-lease");
  EXPECT_EQ(o.lease_duration, 1min);
  EXPECT_EQ(o.renew_deadline, 40s);
  EXPECT_EQ(o.retry_period, 500ms);
}

TEST(OperatorOptions, WorkersMustBeBetweenOneAnd64) {
  Options o;
  EXPECT_EQ(parse(o, {"--workers", "1"}), "");
  EXPECT_EQ(parse(o, {"--workers", "64"}), "");
  EXPECT_NE(parse(o, {"--workers", "0"}).find("--workers"), std::string::npos);
  EXPECT_NE(parse(o, {"--workers", "65"}).find("--workers"), std::string::npos);
  EXPECT_NE(parse(o, {"--workers", "many"}).find("--workers"), std::string::npos);
}

TEST(OperatorOptions, DurationsMustBePositiveAndCarryAUnit) {
  for (const char* flag : {"--topic-deletion-timeout", "--leader-election-lease-duration",
                           "--leader-election-renew-deadline", "--leader-election-retry-period"}) {
    Options o;
    EXPECT_NE(parse(o, {flag, "0s"}).find(flag), std::string::npos) << flag;
    EXPECT_NE(parse(o, {flag, "15"}).find(flag), std::string::npos) << flag;
    EXPECT_NE(parse(o, {flag, "soon"}).find(flag), std::string::npos) << flag;
  }
}

TEST(OperatorOptions, ValidateNeedsRetryPeriodBelowRenewDeadlineBelowLeaseDuration) {
  Options o;
  o.retry_period = 2s;
  o.renew_deadline = 10s;
  o.lease_duration = 15s;
  EXPECT_EQ(outflow::op::validate(o), std::nullopt);

  auto renew_too_long = o;
  renew_too_long.renew_deadline = 15s;  // equal to the lease: the leader could outlive it
  const auto renew_problem = outflow::op::validate(renew_too_long);
  ASSERT_TRUE(renew_problem.has_value());
  EXPECT_NE(renew_problem->find("--leader-election-renew-deadline"), std::string::npos) << *renew_problem;
  EXPECT_NE(renew_problem->find("--leader-election-lease-duration"), std::string::npos) << *renew_problem;

  auto retry_too_long = o;
  retry_too_long.retry_period = 10s;
  const auto retry_problem = outflow::op::validate(retry_too_long);
  ASSERT_TRUE(retry_problem.has_value());
  EXPECT_NE(retry_problem->find("--leader-election-retry-period"), std::string::npos) << *retry_problem;
}

TEST(OperatorOptions, ValidateChecksTheParsedTiming) {
  Options o;
  ASSERT_EQ(parse(o, {"--leader-election-lease-duration", "5s"}), "");  // renew deadline stays 10s
  EXPECT_TRUE(outflow::op::validate(o).has_value());
}

TEST(OperatorOptions, LeaderElectionNeedsANamespaceForItsLease) {
  unsetenv("POD_NAMESPACE");
  Options o;
  ASSERT_EQ(parse(o, {"--leader-elect"}), "");
  const auto problem = outflow::op::validate(o);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("--leader-election-namespace"), std::string::npos) << *problem;
  EXPECT_NE(problem->find("POD_NAMESPACE"), std::string::npos) << *problem;

  Options with_namespace;
  ASSERT_EQ(parse(with_namespace, {"--leader-elect", "--leader-election-namespace", "outflow-system"}), "");
  EXPECT_EQ(outflow::op::validate(with_namespace), std::nullopt);
}

TEST(OperatorOptions, TheLeaseNamespaceComesFromPodNamespace) {
  setenv("POD_NAMESPACE", "from-downward-api", 1);
  Options o;
  ASSERT_EQ(parse(o, {"--leader-elect"}), "");
  unsetenv("POD_NAMESPACE");
  EXPECT_EQ(o.leader_election_namespace, "from-downward-api");
  EXPECT_EQ(outflow::op::validate(o), std::nullopt);
}

TEST(OperatorOptions, AllowedAgentImagesDefaultToNoneBesidesTheOperatorsOwn) {
  Options o;
  ASSERT_EQ(parse(o, {}), "");
  EXPECT_TRUE(o.allowed_agent_images.empty());
  EXPECT_EQ(outflow::op::validate(o), std::nullopt);
}

TEST(OperatorOptions, AllowedAgentImagesAreACommaList) {
  Options o;
  ASSERT_EQ(parse(o, {"--allowed-agent-images", "registry.example/outflow-agent:*,mirror.example/agent:1"}), "");
  EXPECT_EQ(o.allowed_agent_images,
            (std::vector<std::string>{"registry.example/outflow-agent:*", "mirror.example/agent:1"}));
  EXPECT_EQ(outflow::op::validate(o), std::nullopt);
}

TEST(OperatorOptions, AStarInsideAnAllowedImageIsRejectedSayingWhere) {
  Options o;
  ASSERT_EQ(parse(o, {"--allowed-agent-images", "registry.example/*/agent:1"}), "");
  const auto problem = outflow::op::validate(o);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("--allowed-agent-images"), std::string::npos) << *problem;
  EXPECT_NE(problem->find("registry.example/*/agent:1"), std::string::npos) << *problem;
}
