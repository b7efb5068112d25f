#include "operator/status/rollup.h"

#include <gtest/gtest.h>

using namespace outflow::op::status;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z

AgentEntry agent(std::string pod, std::string breaker, std::int64_t heartbeat = kNow - 2) {
  return {std::move(pod), std::move(breaker), "", "", heartbeat};
}

Condition part(const char* type, bool ok, const char* reason) {
  return make_condition(type, ok, reason, std::string(reason) + " message", 5);
}

}  // namespace

TEST(AgentEntries, HeartbeatTimeIsParsedAsUtc) {
  const auto entries = agent_entries_from_json(json::array(
      {{{"pod", "a"}, {"breaker", "Closed"}, {"heartbeatTime", "2027-01-15T08:00:00Z"}}, {{"pod", "b"}}}));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].heartbeat_unix, kNow);
  EXPECT_EQ(entries[0].breaker, "Closed");
  EXPECT_EQ(entries[1].heartbeat_unix, 0);
}

TEST(PruneAgents, RemovesOnlyEntriesOfGonePodsHighestIndexFirstWithGuards) {
  const json agents = json::array({{{"pod", "a"}}, {{"pod", "gone-1"}}, {{"pod", "b"}}, {{"pod", "gone-2"}}});
  const auto patch = prune_agents_patch(agents, {"a", "b"});
  const json expected = json::array({
      {{"op", "test"}, {"path", "/status/agents/3/pod"}, {"value", "gone-2"}},
      {{"op", "remove"}, {"path", "/status/agents/3"}},
      {{"op", "test"}, {"path", "/status/agents/1/pod"}, {"value", "gone-1"}},
      {{"op", "remove"}, {"path", "/status/agents/1"}},
  });
  EXPECT_EQ(patch, expected);
}

TEST(PruneAgents, NothingToPruneIsAnEmptyPatch) {
  EXPECT_TRUE(prune_agents_patch(json::array({{{"pod", "a"}}}), {"a"}).empty());
  EXPECT_TRUE(prune_agents_patch(nullptr, {}).empty());
}

TEST(AgentsReady, NeedsEveryReplicaReadyOnTheCurrentConfiguration) {
  EXPECT_EQ(agents_ready({2, 2, 2, true}, 1).status, "True");
  const auto rolling = agents_ready({2, 2, 1, true}, 1);
  EXPECT_EQ(rolling.status, "False");
  EXPECT_EQ(rolling.reason, "AgentsProgressing");
  EXPECT_EQ(rolling.message, "2/2 agents ready, 1/2 on the current configuration");
  EXPECT_EQ(agents_ready({2, 0, 0, false}, 1).reason, "DeploymentMissing");
}

TEST(AgentsReady, ScaledToZeroIsReadyButSaysNothingPublishes) {
  const auto c = agents_ready({0, 0, 0, true}, 1);
  EXPECT_EQ(c.status, "True");
  EXPECT_EQ(c.reason, "ScaledToZero");
}

TEST(BreakersClosed, AllClosedAndFreshIsTrue) {
  const auto c = breakers_closed({agent("a", "Closed"), agent("b", "Closed")}, kNow, 30s, 5);
  EXPECT_EQ(c.status, "True");
  EXPECT_EQ(c.reason, "AllBreakersClosed");
}

TEST(BreakersClosed, AnOpenBreakerNamesThePodAndItsError) {
  auto open = agent("b", "Open");
  open.last_error = "all brokers down";
  const auto c = breakers_closed({agent("a", "Closed"), open, agent("c", "HalfOpen")}, kNow, 30s, 5);
  EXPECT_EQ(c.status, "False");
  EXPECT_EQ(c.reason, "BreakerOpen");
  EXPECT_NE(c.message.find("b (all brokers down)"), std::string::npos) << c.message;
}

TEST(BreakersClosed, HalfOpenIsNotYetClosed) {
  EXPECT_EQ(breakers_closed({agent("a", "HalfOpen")}, kNow, 30s, 5).reason, "BreakerHalfOpen");
}

TEST(BreakersClosed, ASilentAgentMakesItUnknown) {
  const auto c = breakers_closed({agent("a", "Closed"), agent("b", "Closed", kNow - 31)}, kNow, 30s, 5);
  EXPECT_EQ(c.status, "Unknown");
  EXPECT_EQ(c.reason, "AgentsSilent");
  EXPECT_NE(c.message.find("b"), std::string::npos);
  EXPECT_EQ(breakers_closed({agent("a", "Closed", 0)}, kNow, 30s, 5).status, "Unknown");
}

TEST(ReadyRollUp, TrueOnlyWhenTopicsAgentsAndBreakersAreAllTrue) {
  const auto r = ready({part("TopicsReady", true, "AllTopicsReady"), part("AgentsReady", true, "AllAgentsReady"),
                        part("BreakersClosed", true, "AllBreakersClosed")},
                       5);
  EXPECT_EQ(r.status, "True");
  EXPECT_EQ(r.reason, "Reconciled");
  EXPECT_EQ(r.observed_generation, 5);
}

TEST(ReadyRollUp, CarriesTheFirstFailingPartInOrder) {
  const auto r = ready({part("BreakersClosed", false, "BreakerOpen"), part("AgentsReady", false, "AgentsProgressing"),
                        part("TopicsReady", false, "PartitionDecreaseRefused")},
                       5);
  EXPECT_EQ(r.status, "False");
  EXPECT_EQ(r.reason, "PartitionDecreaseRefused");
  EXPECT_EQ(r.message, "PartitionDecreaseRefused message");
}

TEST(ReadyRollUp, AlertsDoNotGateReadiness) {
  const auto r = ready({part("TopicsReady", true, "AllTopicsReady"), part("AgentsReady", true, "AllAgentsReady"),
                        part("BreakersClosed", true, "AllBreakersClosed"),
                        part("AlertsReady", false, "PrometheusRuleCRDNotInstalled")},
                       5);
  EXPECT_EQ(r.status, "True");
}

TEST(ReadyRollUp, AMissingPartIsUnknown) {
  const auto r = ready({part("TopicsReady", true, "AllTopicsReady")}, 5);
  EXPECT_EQ(r.status, "Unknown");
  EXPECT_EQ(r.reason, "Reconciling");
}

TEST(Summary, FillsThePrinterColumns) {
  const auto s = summarize("7/8", {2, 1, 1, true}, {agent("a", "Closed"), agent("b", "Open"), agent("c", "Closed")});
  EXPECT_EQ(s.topics, "7/8");
  EXPECT_EQ(s.agents, "1/2");
  EXPECT_EQ(s.breakers, "1 Open, 2 Closed");
  EXPECT_EQ(to_json(s), (json{{"topics", "7/8"}, {"agents", "1/2"}, {"breakers", "1 Open, 2 Closed"}}));
  EXPECT_EQ(summarize("0/1", {1, 0, 0, false}, {}).breakers, "-");
}
