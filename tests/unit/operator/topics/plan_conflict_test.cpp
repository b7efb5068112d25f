// Two pipelines claiming one topic: the older keeps it, decided the same way
// from either side.

#include "operator/topics/plan.h"

#include "unit/operator/topics/builders.h"

#include <gtest/gtest.h>

using namespace outflow::op::topics;
using namespace outflow::op::topics::testing;

namespace {

const PipelineRef kOlder = older_pipeline();
const PipelineRef kYounger = younger_pipeline();

}  // namespace

TEST(TopicPlanConflict, ATopicAnOlderPipelineClaimsGetsResourceConflictAndNoCalls) {
  const auto p = plan({.desired = {topic("shared")},
                       .self = self(),
                       .claims = {{"shared", kOlder}}});

  EXPECT_FALSE(p.has_calls());
  const auto st = status_of(p, "shared");
  EXPECT_EQ(st.state, TopicState::Error);
  EXPECT_EQ(st.reason, "ResourceConflict");
  EXPECT_FALSE(st.managed);
  EXPECT_TRUE(contains(st.message, "topic shared")) << st.message;
  EXPECT_TRUE(contains(st.message, "billing/invoices")) << st.message;
}

TEST(TopicPlanConflict, ATopicAYoungerPipelineAlsoClaimsIsPlannedNormally) {
  const auto p = plan({.desired = {topic("shared")},
                       .self = self(),
                       .claims = {{"shared", kYounger}}});

  EXPECT_EQ(names_of(p.create), (std::vector<std::string>{"shared"}));
  EXPECT_EQ(status_of(p, "shared").reason, "Creating");
}

TEST(TopicPlanConflict, LosingAManagedTopicStopsManagingItEvenWhenItDrifted) {
  const auto p = plan({.desired = {topic("shared", 12)},
                       .observed = {{"shared", existing(6, 1, {{"segment.ms", "1"}})}},
                       .managed = {"shared"},
                       .self = self(),
                       .claims = {{"shared", kOlder}}});

  EXPECT_FALSE(p.has_calls());
  EXPECT_EQ(status_of(p, "shared").reason, "ResourceConflict");
  EXPECT_FALSE(status_of(p, "shared").managed);
}

TEST(TopicPlanConflict, ClaimsOnlyAffectTheTopicsClaimed) {
  const auto p = plan({.desired = {topic("shared"), topic("mine")},
                       .self = self(),
                       .claims = {{"shared", kOlder}}});

  EXPECT_EQ(names_of(p.create), (std::vector<std::string>{"mine"}));
}

TEST(TopicPlanConflict, ClaimsCarryingThisPipelinesUidAreIgnored) {
  auto me_as_listed = self();
  me_as_listed.creation_timestamp = "2000-01-01T00:00:00Z";  // would win if counted
  const auto p = plan({.desired = {topic("mine")},
                       .self = self(),
                       .claims = {{"mine", me_as_listed}}});

  EXPECT_EQ(names_of(p.create), (std::vector<std::string>{"mine"}));
}

TEST(TopicPlanConflict, TheOldestOfSeveralClaimantsIsNamedAsOwner) {
  const auto oldest = pipeline_ref("ops/first", "2023-01-01T00:00:00Z", "uid-first");
  const auto p = plan({.desired = {topic("shared")},
                       .self = self(),
                       .claims = {{"shared", kOlder}, {"shared", oldest}, {"shared", kYounger}}});

  EXPECT_TRUE(contains(status_of(p, "shared").message, "ops/first"));
}

TEST(TopicPlanConflict, CreatedInTheSameSecondTheSmallerUidWinsFromBothSides) {
  const auto a = pipeline_ref("team-a/p", "2024-05-01T12:00:00Z", "1111");
  const auto b = pipeline_ref("team-b/p", "2024-05-01T12:00:00Z", "2222");

  const auto as_a = plan({.desired = {topic("shared")}, .self = a, .claims = {{"shared", b}}});
  const auto as_b = plan({.desired = {topic("shared")}, .self = b, .claims = {{"shared", a}}});

  EXPECT_EQ(names_of(as_a.create), (std::vector<std::string>{"shared"}));
  EXPECT_FALSE(as_b.has_calls());
  EXPECT_EQ(status_of(as_b, "shared").reason, "ResourceConflict");
  EXPECT_TRUE(contains(status_of(as_b, "shared").message, "smaller uid"));
}

TEST(TopicPlanConflict, ExactlyOneOfTwoPipelinesActsOnASharedExistingTopic) {
  // The younger one created the topic first; the older one added it to its
  // spec later. Ownership follows age, not who got there first.
  const std::map<std::string, ObservedTopic> observed{{"shared", existing(3)}};
  const auto as_older = plan({.desired = {topic("shared")},
                              .observed = observed,
                              .self = kOlder,
                              .claims = {{"shared", kYounger}}});
  const auto as_younger = plan({.desired = {topic("shared")},
                                .observed = observed,
                                .managed = {"shared"},
                                .self = kYounger,
                                .claims = {{"shared", kOlder}}});

  EXPECT_EQ(as_older.adopted, (std::vector<std::string>{"shared"}));
  EXPECT_EQ(status_of(as_younger, "shared").reason, "ResourceConflict");
}
