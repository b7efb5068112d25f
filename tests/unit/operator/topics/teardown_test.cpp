// What the finalizer of a topicDeletionPolicy: Delete pipeline does next:
// release at once when nothing can be deleted, stop the agents (bounded)
// before deleting, retry and give up in time.

#include "operator/topics/teardown.h"

#include "unit/operator/topics/builders.h"

#include <gtest/gtest.h>

using namespace outflow::op::topics;
using namespace outflow::op::topics::testing;
using namespace std::chrono_literals;

namespace {

// Deletion requested at this second; the tests move "now" from here.
constexpr std::int64_t kRequested = 1'780'000'000;  // 2026-05-28T20:26:40Z
const char* kRequestedText = "2026-05-28T20:26:40Z";

// A pipeline that created both its topics, agents stopped, credentials at hand.
TeardownFacts facts(std::int64_t seconds_since_request = 0) {
  TeardownFacts f;
  f.desired = {topic("orders"), topic("orders.dlq")};
  f.created = {"orders", "orders.dlq"};
  f.self = self();
  f.deployment = "orders-agent";
  f.deletion_requested = kRequestedText;
  f.now_unix = kRequested + seconds_since_request;
  f.give_up_after = 300s;
  return f;
}

const std::vector<std::string> kBoth{"orders", "orders.dlq"};

}  // namespace

TEST(Teardown, StoppedAgentsAndCredentialsMeanDeleteTheCreatedTopics) {
  const auto step = next_teardown_step(facts());
  EXPECT_EQ(step.action, TeardownAction::DeleteTopics);
  EXPECT_EQ(step.deletable, kBoth);
  EXPECT_FALSE(step.scale_agents_to_zero);
  EXPECT_TRUE(step.notes.empty());
}

TEST(Teardown, AnUnreadableSpecReleasesAndDeletesNothing) {
  auto f = facts();
  f.spec_problems = {"spec.topics: required"};
  const auto step = next_teardown_step(f);
  EXPECT_EQ(step.action, TeardownAction::Release);
  ASSERT_EQ(step.notes.size(), 1u);
  EXPECT_EQ(step.notes[0], (Note{true, "TopicsRetained",
                                 "the spec cannot be read (spec.topics: required); no topic was deleted"}));
}

TEST(Teardown, APausedPipelineReleasesAndDeletesNothing) {
  auto f = facts();
  f.paused = true;
  f.deployment_wants_pods = true;
  const auto step = next_teardown_step(f);
  EXPECT_EQ(step.action, TeardownAction::Release);
  EXPECT_FALSE(step.scale_agents_to_zero) << "paused: the operator touches nothing";
  EXPECT_EQ(step.notes.at(0).reason, "TopicsRetained");
}

// No topic to delete: nothing could be recreated, so the agents need not stop
// first (the garbage collector removes them with the pipeline).
TEST(Teardown, APipelineThatCreatedNoTopicReleasesWithoutStoppingItsAgents) {
  auto f = facts();
  f.created = {};
  f.deployment_wants_pods = true;
  f.agent_pods = {"orders-agent-1"};
  const auto step = next_teardown_step(f);
  EXPECT_EQ(step.action, TeardownAction::Release);
  EXPECT_FALSE(step.scale_agents_to_zero);
  EXPECT_EQ(step.notes.at(0),
            (Note{false, "TopicsRetained", "this pipeline created none of its topics (adopted topics are never deleted)"}));
}

TEST(Teardown, ARunningDeploymentIsScaledToZeroBeforeAnyTopicGoes) {
  auto f = facts(10);
  f.deployment_wants_pods = true;
  f.agent_pods = {"orders-agent-1", "orders-agent-2"};
  const auto step = next_teardown_step(f);
  EXPECT_EQ(step.action, TeardownAction::StopAgents);
  EXPECT_TRUE(step.scale_agents_to_zero);
  EXPECT_EQ(step.look_again_in, 140s) << "half of the 300 s deletion timeout, 10 s of it gone";
  ASSERT_EQ(step.notes.size(), 1u);
  EXPECT_FALSE(step.notes[0].warning);
  EXPECT_EQ(step.notes[0].reason, "StoppingAgents");
  EXPECT_TRUE(contains(step.notes[0].message, "orders-agent-1, orders-agent-2")) << step.notes[0].message;
  EXPECT_TRUE(contains(step.notes[0].message, "orders, orders.dlq")) << step.notes[0].message;
  EXPECT_TRUE(contains(step.notes[0].message, "150s")) << step.notes[0].message;
}

TEST(Teardown, AScaledDeploymentWithoutPodsYetStillWaitsForTheScaleToShow) {
  auto f = facts();
  f.deployment_wants_pods = true;
  const auto step = next_teardown_step(f);
  EXPECT_EQ(step.action, TeardownAction::StopAgents);
  EXPECT_TRUE(contains(step.notes.at(0).message, "Deployment orders-agent to be scaled to 0"))
      << step.notes.at(0).message;
}

// The Deployment is at zero but a pod is still terminating (a real kubelet
// keeps it until the agent has drained and exited).
TEST(Teardown, PodsStillTerminatingAreWaitedForWithoutScalingAgain) {
  auto f = facts(20);
  f.agent_pods = {"orders-agent-1"};
  const auto step = next_teardown_step(f);
  EXPECT_EQ(step.action, TeardownAction::StopAgents);
  EXPECT_FALSE(step.scale_agents_to_zero);
  EXPECT_EQ(step.look_again_in, 130s);
}

TEST(Teardown, PastTheAgentBoundTheTopicsGoAnywayWithAWarning) {
  auto f = facts(150);
  f.agent_pods = {"orders-agent-1"};
  const auto step = next_teardown_step(f);
  EXPECT_EQ(step.action, TeardownAction::DeleteTopics);
  EXPECT_EQ(step.deletable, kBoth);
  ASSERT_EQ(step.notes.size(), 1u);
  EXPECT_TRUE(step.notes[0].warning);
  EXPECT_EQ(step.notes[0].reason, "AgentsStillRunning");
  EXPECT_TRUE(contains(step.notes[0].message, "orders-agent-1")) << step.notes[0].message;
}

// An operator that was down for longer than the bound still scales the
// agents down (nothing should keep producing) but does not wait.
TEST(Teardown, PastTheBoundARunningDeploymentIsStillScaledDown) {
  auto f = facts(600);
  f.deployment_wants_pods = true;
  const auto step = next_teardown_step(f);
  EXPECT_EQ(step.action, TeardownAction::DeleteTopics);
  EXPECT_TRUE(step.scale_agents_to_zero);
}

TEST(Teardown, AnUnreadableDeletionTimestampCannotBoundTheWaitSoThereIsNone) {
  auto f = facts();
  f.deletion_requested = "yesterday";
  f.agent_pods = {"orders-agent-1"};
  EXPECT_EQ(next_teardown_step(f).action, TeardownAction::DeleteTopics);
}

TEST(Teardown, AgentsGetHalfOfTheDeletionTimeout) {
  EXPECT_EQ(agent_stop_bound(300s), 150s);
  EXPECT_EQ(agent_stop_bound(3s), 1s);
}

TEST(Teardown, WithoutCredentialsItRetriesThenGivesUpAtTheDeletionTimeout) {
  auto f = facts(100);
  f.no_credentials = "Secret \"kafka-user\" (Kafka SASL credentials) not found";
  const auto retry = next_teardown_step(f);
  EXPECT_EQ(retry.action, TeardownAction::Retry);
  EXPECT_EQ(retry.notes.at(0).reason, "TopicDeletionFailed");
  EXPECT_TRUE(contains(retry.notes.at(0).message, "kafka-user"));

  f.now_unix = kRequested + 300;
  const auto given_up = next_teardown_step(f);
  EXPECT_EQ(given_up.action, TeardownAction::Release);
  ASSERT_EQ(given_up.notes.size(), 1u);
  EXPECT_TRUE(given_up.notes[0].warning);
  EXPECT_EQ(given_up.notes[0].reason, "TopicDeletionAbandoned");
  EXPECT_TRUE(contains(given_up.notes[0].message, "orders, orders.dlq")) << given_up.notes[0].message;
  EXPECT_TRUE(contains(given_up.notes[0].message, "within 300s")) << given_up.notes[0].message;
}

TEST(Teardown, TheBrokersAnswerReleasesWithWhatWentAndWhatStayed) {
  const auto f = facts();
  DeletionPlan plan;
  plan.remove = {"orders"};
  plan.retained = {{"orders.dlq", "ClaimedByOtherPipeline", "kept topic orders.dlq: EventPipeline b/x also lists it."}};
  const auto step = after_deletion(f, plan, {});
  EXPECT_EQ(step.action, TeardownAction::Release);
  EXPECT_EQ(step.notes.at(0),
            (Note{false, "TopicsDeleted",
                  "deleted topics orders (topicDeletionPolicy: Delete). kept topic orders.dlq: EventPipeline b/x also "
                  "lists it."}));
}

TEST(Teardown, NothingLeftToDeleteAfterTheClaimsReleasesSayingSo) {
  DeletionPlan plan;
  plan.retained = {{"orders", "ClaimedByOtherPipeline", "kept topic orders: EventPipeline b/x also lists it."}};
  const auto step = after_deletion(facts(), plan, {});
  EXPECT_EQ(step.action, TeardownAction::Release);
  EXPECT_EQ(step.notes.at(0).reason, "TopicsRetained");
  EXPECT_TRUE(contains(step.notes.at(0).message, "no topic of this pipeline was deleted"));
}

TEST(Teardown, ATopicTheBrokerDidNotDeleteIsRetried) {
  DeletionPlan plan;
  plan.remove = {"orders"};
  const auto step = after_deletion(facts(), plan, {"orders: Broker: Not controller"});
  EXPECT_EQ(step.action, TeardownAction::Retry);
  EXPECT_EQ(step.notes.at(0),
            (Note{true, "TopicDeletionFailed", "deleting topics failed, retrying: orders: Broker: Not controller"}));
}

TEST(Teardown, AnUnreachableClusterIsRetriedUntilTheTimeout) {
  EXPECT_EQ(after_failure(facts(299), "Kafka unreachable").action, TeardownAction::Retry);
  EXPECT_EQ(after_failure(facts(300), "Kafka unreachable").action, TeardownAction::Release);
}
