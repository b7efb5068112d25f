#include "operator/topics/teardown.h"

#include "common/time_format.h"
#include "operator/topics/finalizer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <optional>

namespace outflow::op::topics {
namespace {

std::string join(const std::vector<std::string>& names) { return fmt::format("{}", fmt::join(names, ", ")); }

TeardownStep release(bool warning, std::string reason, std::string message) {
  TeardownStep step;
  step.action = TeardownAction::Release;
  step.notes.push_back({warning, std::move(reason), std::move(message)});
  return step;
}

// Seconds since the deletion was requested; nullopt when the timestamp cannot be read.
std::optional<std::int64_t> waited(const TeardownFacts& facts) {
  const auto requested = parse_rfc3339(facts.deletion_requested);
  if (!requested) return std::nullopt;
  return facts.now_unix - *requested;
}

}  // namespace

std::chrono::seconds agent_stop_bound(std::chrono::seconds give_up_after) { return give_up_after / 2; }

TeardownStep next_teardown_step(const TeardownFacts& facts) {
  if (!facts.spec_problems.empty()) {
    return release(true, "TopicsRetained",
                   fmt::format("the spec cannot be read ({}); no topic was deleted", join(facts.spec_problems)));
  }
  if (facts.paused) {
    return release(true, "TopicsRetained", "the pipeline was paused when it was deleted; no topic was deleted");
  }
  // At most the created topics can go; when there are none, there is no need
  // to stop anything or ask the cluster anything.
  auto deletable = deletion_plan(facts.desired, facts.created, facts.self, {}).remove;
  if (deletable.empty()) {
    return release(false, "TopicsRetained",
                   "this pipeline created none of its topics (adopted topics are never deleted)");
  }

  TeardownStep step;
  step.deletable = std::move(deletable);
  step.scale_agents_to_zero = facts.deployment_wants_pods;
  const bool agents_remain = facts.deployment_wants_pods || !facts.agent_pods.empty();
  if (agents_remain) {
    const auto bound = agent_stop_bound(facts.give_up_after);
    const auto so_far = waited(facts);
    // An unreadable timestamp cannot bound the wait, so there is none.
    if (so_far && *so_far < bound.count()) {
      step.action = TeardownAction::StopAgents;
      step.look_again_in = std::chrono::seconds(bound.count() - *so_far);
      const auto waiting_for = facts.agent_pods.empty()
                                   ? fmt::format("Deployment {} to be scaled to 0", facts.deployment)
                                   : fmt::format("agent pods {} to stop", join(facts.agent_pods));
      step.notes.push_back({false, "StoppingAgents",
                            fmt::format("waiting for {} before deleting topics {}, so no agent recreates them; "
                                        "the topics are deleted anyway {}s after the deletion was requested",
                                        waiting_for, join(step.deletable), bound.count())});
      return step;
    }
    if (!facts.agent_pods.empty()) {
      step.notes.push_back({true, "AgentsStillRunning",
                            fmt::format("agent pods {} still exist {}s after the deletion was requested; deleting "
                                        "topics {} anyway: an agent that still runs may recreate them on a broker "
                                        "that creates topics automatically",
                                        join(facts.agent_pods), bound.count(), join(step.deletable))});
    }
  }
  if (!facts.no_credentials.empty()) {
    auto failed = after_failure(facts, facts.no_credentials);
    failed.notes.insert(failed.notes.begin(), step.notes.begin(), step.notes.end());
    failed.scale_agents_to_zero = step.scale_agents_to_zero;
    return failed;
  }
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
