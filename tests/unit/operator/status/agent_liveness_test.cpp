#include "operator/status/agent_liveness.h"

#include <gtest/gtest.h>

using namespace outflow::op::status;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z
constexpr std::int64_t kHourAgo = kNow - 3600;

AgentEntry entry(std::string pod, std::int64_t written, std::string breaker = "Closed", std::string error = "") {
  return {std::move(pod), std::move(breaker), "", std::move(error), written};
}

AgentPod ready_pod(std::string name) { return {std::move(name), true, kNow - 7200, 0}; }
AgentPod not_ready_since(std::string name, std::int64_t since) { return {std::move(name), false, since, 0}; }

}  // namespace

TEST(AgentPodFromJson, ReadsReadyItsTransitionAndWhenDeletionWasAskedFor) {
  const auto pod = agent_pod_from_json(json::parse(R"({
    "metadata": {"name": "orders-agent-1", "deletionTimestamp": "2027-01-15T08:00:30Z",
                 "deletionGracePeriodSeconds": 30},
    "status": {"conditions": [{"type": "ContainersReady", "status": "False"},
                              {"type": "Ready", "status": "True", "lastTransitionTime": "2027-01-15T07:00:00Z"}]}
  })"));
  EXPECT_EQ(pod.name, "orders-agent-1");
  EXPECT_TRUE(pod.ready);
  EXPECT_EQ(pod.ready_changed_unix, kNow - 3600);
  EXPECT_EQ(pod.deleting_since_unix, kNow) << "deletionTimestamp is the end of the grace period";
}

TEST(AgentPodFromJson, APodWithoutAReadyConditionIsNotReady) {
  const auto pod = agent_pod_from_json(json::parse(R"({"metadata": {"name": "p"}, "status": {"phase": "Pending"}})"));
  EXPECT_FALSE(pod.ready);
  EXPECT_EQ(pod.ready_changed_unix, 0);
  EXPECT_EQ(pod.deleting_since_unix, 0);
}

TEST(AgentLiveness, AReadyPodKeepsAnEntryWrittenLongAgoAlive) {
  // An idle agent wrote its entry an hour ago and nothing since: its pod's
  // Ready condition, which kubelet keeps, says it is alive now.
  const auto entries = with_liveness({entry("a", kHourAgo)}, {ready_pod("a")}, kNow);
  EXPECT_EQ(entries[0].heartbeat_unix, kNow);
  EXPECT_EQ(breakers_closed(entries, kNow, 60s, 5).status, "True");
}

TEST(AgentLiveness, APodNotReadyWithoutAReasonInItsEntryWasLastAliveWhenItStoppedBeingReady) {
  const auto entries =
      with_liveness({entry("a", kHourAgo), entry("b", kHourAgo)},
                    {not_ready_since("a", kNow - 61), not_ready_since("b", kNow - 20)}, kNow);
  EXPECT_EQ(entries[0].heartbeat_unix, kNow - 61);
  EXPECT_EQ(entries[1].heartbeat_unix, kNow - 20);
  const auto c = breakers_closed(entries, kNow, 60s, 5);
  EXPECT_EQ(c.reason, "AgentsSilent");
  EXPECT_TRUE(c.message.ends_with("since): a")) << "only a; b is within the bound: " << c.message;
}

TEST(AgentLiveness, AnEntryWrittenAfterThePodStoppedBeingReadyKeepsItsOwnTime) {
  const auto entries = with_liveness({entry("a", kNow - 5)}, {not_ready_since("a", kNow - 600)}, kNow);
  EXPECT_EQ(entries[0].heartbeat_unix, kNow - 5);
}

TEST(AgentLiveness, AnAgentNotReadyBecauseOfTheTroubleItReportsIsAliveAndItsBreakerShows) {
  // Its /readyz fails on purpose while Kafka or the database fails; the entry
  // saying so is what a person needs, not "silent".
  const auto entries = with_liveness(
      {entry("a", kHourAgo, "Open", "all brokers down"), entry("b", kHourAgo, "HalfOpen"),
       entry("c", kHourAgo, "Closed", "database: connection refused")},
      {not_ready_since("a", kNow - 600), not_ready_since("b", kNow - 600), not_ready_since("c", kNow - 600)}, kNow);
  for (const auto& e : entries) EXPECT_EQ(e.heartbeat_unix, kNow) << e.pod;
  EXPECT_EQ(breakers_closed(entries, kNow, 60s, 5).reason, "BreakerOpen");
}

TEST(AgentLiveness, APodBeingDeletedWasLastAliveWhenItsDeletionWasAskedFor) {
  const AgentPod leaving{"a", true, kNow - 7200, kNow - 90};
  EXPECT_EQ(with_liveness({entry("a", kHourAgo)}, {leaving}, kNow)[0].heartbeat_unix, kNow - 90);
  EXPECT_EQ(with_liveness({entry("a", kHourAgo, "Open")}, {leaving}, kNow)[0].heartbeat_unix, kNow - 90)
      << "its trouble does not keep a leaving pod alive";
  EXPECT_EQ(with_liveness({entry("a", kNow - 3)}, {leaving}, kNow)[0].heartbeat_unix, kNow - 3)
      << "its last write on SIGTERM is later";
}

TEST(AgentLiveness, AnAgentWithoutALabelledPodHasOnlyItsEntrysOwnTime) {
  // A process outside Kubernetes, or a pod without outflow.dev/pipeline.
  const auto entries = with_liveness({entry("elsewhere", kNow - 30), entry("never", 0)}, {ready_pod("a")}, kNow);
  EXPECT_EQ(entries[0].heartbeat_unix, kNow - 30);
  EXPECT_EQ(entries[1].heartbeat_unix, 0);
}

TEST(AgentLiveness, ANotReadyPodWithoutTransitionTimeLeavesTheEntrysTime) {
  const auto entries = with_liveness({entry("a", kNow - 10)}, {not_ready_since("a", 0)}, kNow);
  EXPECT_EQ(entries[0].heartbeat_unix, kNow - 10);
}

TEST(NextTurnsStale, TheSecondAfterTheFirstEntryCrossesTheBound) {
  EXPECT_EQ(next_turns_stale({entry("a", kNow - 20), entry("b", kNow - 50)}, kNow, 60s), 11s);
  EXPECT_EQ(next_turns_stale({entry("a", kNow)}, kNow, 60s), 61s) << "alive now: back after the bound";
  EXPECT_EQ(next_turns_stale({entry("a", kNow - 61), entry("b", 0)}, kNow, 60s), std::nullopt)
      << "already stale or never seen: nothing to wait for";
  EXPECT_EQ(next_turns_stale({}, kNow, 60s), std::nullopt);
}
