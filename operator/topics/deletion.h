#pragma once

// Which topics go when a pipeline with topicDeletionPolicy: Delete is deleted.
// Deleting a topic destroys its data and cannot be undone, so the rule errs
// towards keeping: only topics this pipeline created (never one it adopted:
// that topic existed before the pipeline, and so did its data), and none that
// another pipeline on the same cluster, or possibly the same cluster, still
// lists, whichever of the two owns it.

#include "common/pipeline/spec.h"
#include "operator/topics/ownership.h"

#include <set>
#include <string>
#include <vector>

namespace outflow::op::topics {

struct RetainedTopic {
  std::string topic;
  std::string reason;   // NotCreatedByPipeline | ClaimedByOtherPipeline
  std::string message;  // for the Event the driver records
  bool operator==(const RetainedTopic&) const = default;
};

struct DeletionPlan {
  std::vector<std::string> remove;     // one DeleteTopics request, in desired order
  std::vector<RetainedTopic> retained;  // every other desired topic, with why
};

// `created`: topics whose status.topics[].origin is Created. `claims` as for
// plan(), but of every pipeline that may be on the same cluster
// (may_be_same_cluster); self's own (same uid) are ignored. A younger claimant also keeps the topic: it has been waiting in
// ResourceConflict and takes the topic over, data intact, once we are gone.
DeletionPlan deletion_plan(const std::vector<pipeline::TopicSpec>& desired,
                           const std::set<std::string>& created, const PipelineRef& self,
                           const std::vector<Claim>& claims);

}  // namespace outflow::op::topics
