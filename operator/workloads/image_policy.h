#pragma once

// Which agent images a pipeline may run. spec.agent.image is written by
// whoever may create an EventPipeline in a namespace, and the Deployment
// mounts that namespace's Secrets named by the spec: without this check, that
// right would let a team run any image with those Secrets. The operator's own
// agent image is always allowed; the administrators add others with
// --allowed-agent-images (Helm value agent.allowedImages).

#include "operator/workloads/identity.h"

#include <optional>
#include <string>
#include <vector>

namespace outflow::op::workloads {

// `pattern` is an exact image reference, or a prefix when it ends in `*`
// (`registry.example/outflow-agent:*`). Plain string comparison: no registry
// defaulting, so `outflow-agent:1` and `docker.io/library/outflow-agent:1`
// are different references.
bool image_matches(const std::string& image, const std::string& pattern);

// The image the agent Deployment runs: spec.agent.image, or the operator's.
std::string effective_agent_image(const std::string& spec_image, const OperatorDefaults& defaults);

// Why the pipeline's image may not run (the message names the image and the
// setting to change), or nullopt when it may.
std::optional<std::string> refuse_agent_image(const std::string& spec_image, const OperatorDefaults& defaults);

// What is wrong with one --allowed-agent-images entry, or nullopt.
std::optional<std::string> invalid_image_pattern(const std::string& pattern);

}  // namespace outflow::op::workloads
