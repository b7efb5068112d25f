#include "operator/topics/teardown.h"

#include "operator/topics/finalizer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace outflow::op::topics {
namespace {

std::string join(const std::vector<std::string>& names) { return fmt::format("{}", fmt::join(names, ", ")); }

TeardownStep release(bool warning, std::string reason, std::string message) {
  TeardownStep step;
  step.action = TeardownAction::Release;
  step.notes.push_back({warning, std::move(reason), std::move(message)});
  return step;
}

}  // namespace

TeardownStep next_teardown_step(const TeardownFacts& facts) {
  if (!facts.spec_problems.empty()) {
    return release(true, "TopicsRetained",
                   fmt::format("the spec cannot be read ({}); no topic was deleted", join(facts.spec_problems)));
  }
  if (facts.paused) {
    return release(true, "TopicsRetained", "the pipeline was paused when it was deleted; no topic was deleted");
  }
  // At most the created topics can go; when there are none, there is no need
  // to ask the cluster anything.
  auto deletable = deletion_plan(facts.desired, facts.created, facts.self, {}).remove;
  if (deletable.empty()) {
    return release(false, "TopicsRetained",
                   "this pipeline created none of its topics (adopted topics are never deleted)");
  }
  if (!facts.no_credentials.empty()) return after_failure(facts, facts.no_credentials);
  TeardownStep step;
  step.deletable = std::move(deletable);
  step.action = TeardownAction::DeleteTopics;
  return step;
}

TeardownStep after_deletion(const TeardownFacts& facts, const DeletionPlan& plan,
                            const std::vector<std::string>& failed) {
  std::string kept;
  for (const auto& k : plan.retained) kept += " " + k.message;
  if (plan.remove.empty()) {
    return release(false, "TopicsRetained", "no topic of this pipeline was deleted:" + kept);
  }
  if (!failed.empty()) return after_failure(facts, join(failed));
  return release(false, "TopicsDeleted",
                 fmt::format("deleted topics {} (topicDeletionPolicy: Delete).{}", join(plan.remove), kept));
}

TeardownStep after_failure(const TeardownFacts& facts, const std::string& failure) {
  if (give_up_deletion(facts.deletion_requested, facts.now_unix, facts.give_up_after)) {
    const auto deletable = deletion_plan(facts.desired, facts.created, facts.self, {}).remove;
    return release(true, "TopicDeletionAbandoned",
                   fmt::format("could not delete topics {} within {}s ({}); the finalizer was removed so the "
                               "pipeline (and its namespace) can go; delete the topics by hand",
                               join(deletable), facts.give_up_after.count(), failure));
  }
  TeardownStep step;
  step.action = TeardownAction::Retry;
  step.notes.push_back({true, "TopicDeletionFailed", fmt::format("deleting topics failed, retrying: {}", failure)});
  return step;
}

}  // namespace outflow::op::topics
