#include "operator/check/verdict.h"

#include <gtest/gtest.h>

namespace outflow::op::check {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

HttpSeen answered(int status, std::string body) { return {status, std::move(body), {}}; }

ReplicaSeen replica(const std::string& pod, bool leading) {
  return {pod, true, "10.0.0.1", answered(200, "ok"),
          answered(200, std::string("# HELP outflow_operator_leader 1 while...\n# TYPE outflow_operator_leader gauge\n"
                                    "outflow_operator_leader ") +
                            (leading ? "1" : "0") + "\nother_metric 3\n")};
}

LeaseSeen lease_of(const std::string& holder, std::int64_t age) { return {holder, kNow - age, 10}; }

const Expected kTwoWithElection{2, "outflow-operator"};

TEST(OperatorCheck, TwoReadyReplicasOneLeadingAFreshLeaseIsReady) {
  const auto items = judge({replica("op-a", true), replica("op-b", false)}, kTwoWithElection,
                           lease_of("op-a_0f3c9a21", 2), kNow);
  EXPECT_EQ(checklist::exit_code(items), checklist::kExitReady) << checklist::render(items);
  EXPECT_EQ(items.front(), (Item{"operator pods", Outcome::Ok, "2 of 2 Ready"}));
  EXPECT_EQ(items[1].detail, "/readyz 200, metrics served, leading");
  EXPECT_EQ(items[2].detail, "/readyz 200, metrics served, standing by");
  EXPECT_EQ(items[3], (Item{"leader", Outcome::Ok, "op-a leads"}));
  EXPECT_EQ(items[4], (Item{"lease outflow-operator", Outcome::Ok, "held by op-a_0f3c9a21, renewed 2 s ago"}));
}

TEST(OperatorCheck, AMissingOrUnreadyReplicaIsNamed) {
  auto b = replica("op-b", false);
  b.kubelet_ready = false;
  auto items = judge({replica("op-a", true), b}, kTwoWithElection, lease_of("op-a_1", 0), kNow);
  EXPECT_EQ(items.front().outcome, Outcome::Failed);
  EXPECT_NE(items.front().detail.find("not Ready: op-b"), std::string::npos) << items.front().detail;
  items = judge({replica("op-a", true)}, kTwoWithElection, lease_of("op-a_1", 0), kNow);
  EXPECT_NE(items.front().detail.find("1 found, 1 Ready, 2 expected"), std::string::npos) << items.front().detail;
  EXPECT_EQ(checklist::exit_code(items), checklist::kExitFailed);
}

TEST(OperatorCheck, EachPortThatDoesNotAnswerSaysWhichValueToLookAt) {
  auto a = replica("op-a", true);
  a.readyz = {0, "", "Connection refused"};
  auto items = judge({a}, {1, ""}, std::nullopt, kNow);
  EXPECT_EQ(items[1].outcome, Outcome::Failed);
  EXPECT_NE(items[1].detail.find("healthPort"), std::string::npos) << items[1].detail;
  EXPECT_NE(items[1].detail.find("Connection refused"), std::string::npos) << items[1].detail;

  a = replica("op-a", true);
  a.readyz = answered(503, "informer caches have not synced yet");
  items = judge({a}, {1, ""}, std::nullopt, kNow);
  EXPECT_EQ(items[1].detail, "/readyz answered 503: informer caches have not synced yet");

  a = replica("op-a", true);
  a.metrics = {0, "", "timed out"};
  items = judge({a}, {1, ""}, std::nullopt, kNow);
  EXPECT_NE(items[1].detail.find("metricsPort"), std::string::npos) << items[1].detail;

  a = replica("op-a", true);
  a.metrics = answered(200, "process_cpu_seconds_total 3\n");
  items = judge({a}, {1, ""}, std::nullopt, kNow);
  EXPECT_NE(items[1].detail.find("no outflow_operator_leader"), std::string::npos) << items[1].detail;

  a = replica("op-a", true);
  a.ip.clear();
  items = judge({a}, {1, ""}, std::nullopt, kNow);
  EXPECT_EQ(items[1], (Item{"pod op-a", Outcome::Failed, "has no pod IP yet (not started)"}));
}

TEST(OperatorCheck, NoLeaderOrTwoLeadersFail) {
  auto items = judge({replica("op-a", false), replica("op-b", false)}, kTwoWithElection, std::nullopt, kNow);
  EXPECT_EQ(items[3].outcome, Outcome::Failed);
  EXPECT_NE(items[3].detail.find("none of the 2 replicas"), std::string::npos) << items[3].detail;
  EXPECT_EQ(items[4], (Item{"lease outflow-operator", Outcome::Failed,
                            "does not exist: no replica has campaigned (are the pods running with --leader-elect?)"}));

  items = judge({replica("op-a", true), replica("op-b", true)}, kTwoWithElection, lease_of("op-a_1", 0), kNow);
  EXPECT_EQ(items[3].outcome, Outcome::Failed);
  EXPECT_NE(items[3].detail.find("op-a, op-b all report leading"), std::string::npos) << items[3].detail;
}

TEST(OperatorCheck, ALeaseHeldBySomeoneElseOrNotRenewedFails) {
  auto items = judge({replica("op-a", true), replica("op-b", false)}, kTwoWithElection, lease_of("op-b_77", 1), kNow);
  EXPECT_EQ(items[4], (Item{"lease outflow-operator", Outcome::Failed, "is held by op-b_77, but op-a reports leading"}));

  items = judge({replica("op-a", true), replica("op-b", false)}, kTwoWithElection, lease_of("op-a_1", 11), kNow);
  EXPECT_EQ(items[4].outcome, Outcome::Failed);
  EXPECT_NE(items[4].detail.find("not renewed for 11 s (lease duration 10 s)"), std::string::npos) << items[4].detail;

  items = judge({replica("op-a", true), replica("op-b", false)}, kTwoWithElection, LeaseSeen{"", kNow, 1}, kNow);
  EXPECT_EQ(items[4].detail, "has no holder (released, and nobody took it)");
}

TEST(OperatorCheck, WithoutElectionOneReplicaIsFineAndTwoAreAMisconfiguration) {
  auto items = judge({replica("op-a", true)}, {1, ""}, std::nullopt, kNow);
  EXPECT_EQ(checklist::exit_code(items), checklist::kExitReady) << checklist::render(items);
  EXPECT_EQ(items.back().outcome, Outcome::Skipped);
  EXPECT_EQ(items.size(), 3u);  // no lease item

  items = judge({replica("op-a", true), replica("op-b", true)}, {2, ""}, std::nullopt, kNow);
  EXPECT_EQ(items.back().outcome, Outcome::Failed);
  EXPECT_NE(items.back().detail.find("set leaderElection=true or replicas=1"), std::string::npos);
}

TEST(OperatorCheck, MetricValueReadsOnlyTheNamedUnlabelledSample) {
  const std::string text =
      "# HELP outflow_operator_leader x\noutflow_operator_leader_total 5\noutflow_operator_leader 1\n";
  EXPECT_EQ(metric_value(text, "outflow_operator_leader"), 1.0);
  EXPECT_EQ(metric_value("outflow_operator_leader_total 5\n", "outflow_operator_leader"), std::nullopt);
  EXPECT_EQ(metric_value("", "outflow_operator_leader"), std::nullopt);
  EXPECT_EQ(metric_value("outflow_operator_leader 0", "outflow_operator_leader"), 0.0);
}

}  // namespace
}  // namespace outflow::op::check
