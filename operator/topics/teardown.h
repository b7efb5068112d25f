#pragma once

// What the finalizer of a topicDeletionPolicy: Delete pipeline does next, one
// decision at a time: the driver makes the calls a step asks for, then asks
// again (on the next reconcile, or with the broker's answer).
//
//  1. Nothing to delete (the spec cannot be read, the pipeline was paused, or
//     it created none of its topics): release the finalizer at once.
//  2. Stop the agents first: scale their Deployment to zero and wait until
//     their pods are gone. A client still producing to a deleted topic
//     recreates it, unowned and empty, on a broker with
//     auto.create.topics.enable. The wait is bounded (agent_stop_bound); past
//     it the topics go anyway, with a Warning: a pod stuck in Terminating on a
//     dead node runs nothing.
//  3. Delete: needs Kafka credentials (the driver says whether it has any).
//  4. After the call: release saying what was deleted and what kept, or
//     retry until the deletion timeout, then release with
//     TopicDeletionAbandoned, because a namespace stuck in Terminating hurts
//     more than topics left behind.
//
// Pure: the driver passes what it observed and the wall clock.

#include "common/pipeline/spec.h"
#include "operator/topics/deletion.h"
#include "operator/topics/ownership.h"

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace outflow::op::topics {

// An Event for the driver to record on the pipeline.
struct Note {
  bool warning = false;
  std::string reason;
  std::string message;
  bool operator==(const Note&) const = default;
};

struct TeardownFacts {
  std::vector<std::string> spec_problems{};  // the spec cannot be read when not empty
  bool paused = false;
  std::vector<pipeline::TopicSpec> desired{};  // desired_topics(spec)
  std::set<std::string> created{};             // status::created_topics()
  PipelineRef self{};
  // The agent Deployment: its name, whether it exists and still asks for
  // pods (spec.replicas above zero), and the pods carrying its selector labels.
  std::string deployment{};
  bool deployment_wants_pods = false;
  std::vector<std::string> agent_pods{};
  // Why the cluster cannot be reached with the credentials at hand (empty: it can).
  std::string no_credentials{};
  // metadata.deletionTimestamp (RFC 3339) and the wall clock.
  std::string deletion_requested{};
  std::int64_t now_unix = 0;
  // --topic-deletion-timeout: the bound on the whole finalizer.
  std::chrono::seconds give_up_after{};
};

enum class TeardownAction {
  Release,       // remove the finalizer (after recording the notes)
  StopAgents,    // scale to zero if asked, then look again within `look_again_in`
  DeleteTopics,  // ask the cluster for its id, plan against the claims, delete
  Retry,         // record the notes, back off, try again
};

struct TeardownStep {
  TeardownAction action = TeardownAction::Release;
  std::vector<Note> notes{};  // Events to record, in order
  bool scale_agents_to_zero = false;
  // The topics this pipeline created: the most that can go.
  std::vector<std::string> deletable{};
  std::chrono::seconds look_again_in{};
};

// How long the finalizer waits for the agents' pods: half of the deletion
// timeout, so the other half is left for deleting the topics.
std::chrono::seconds agent_stop_bound(std::chrono::seconds give_up_after);

TeardownStep next_teardown_step(const TeardownFacts& facts);

// After the cluster was asked: `plan` is deletion_plan() against the other
// pipelines' claims; `failed` has one "topic: why" per topic the broker did
// not delete (empty when nothing was sent because plan.remove was empty).
TeardownStep after_deletion(const TeardownFacts& facts, const DeletionPlan& plan,
                            const std::vector<std::string>& failed);

// When the topics could not be deleted (`failure` says why): retry, or
// release once --topic-deletion-timeout has passed since the deletion was requested.
TeardownStep after_failure(const TeardownFacts& facts, const std::string& failure);

}  // namespace outflow::op::topics
