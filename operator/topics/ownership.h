#pragma once

// Who owns a topic that two pipelines both list. The rule has to give the same
// answer when each pipeline's reconcile evaluates it on its own, with no
// coordination between them: the older pipeline wins, and the uid breaks a tie.

#include "common/pipeline/spec.h"

#include <string>
#include <vector>

namespace outflow::op::topics {

// An EventPipeline as far as ownership is concerned.
struct PipelineRef {
  std::string name;  // "namespace/name"; only used in messages
  // metadata.creationTimestamp exactly as the API server writes it: RFC 3339 in
  // UTC with second precision ("2024-05-01T12:00:00Z"). That form has a fixed
  // width, so comparing the strings compares the times.
  std::string creation_timestamp;
  std::string uid;
  bool operator==(const PipelineRef&) const = default;
};

// A topic some pipeline lists (directly or through its deadLetter block).
struct Claim {
  std::string topic;
  PipelineRef by;
  bool operator==(const Claim&) const = default;
};

// True when `a` keeps a topic that `a` and `b` both claim: `a` was created
// earlier, or in the same second with the smaller uid. Pipelines created in the
// same second are common (one `kubectl apply -f dir/`), hence the tie-break.
bool takes_precedence(const PipelineRef& a, const PipelineRef& b);

// Every topic `spec` makes its pipeline claim, i.e. desired_topics(spec).
std::vector<Claim> claims_of(const PipelineRef& pipeline, const pipeline::PipelineSpec& spec);

}  // namespace outflow::op::topics
