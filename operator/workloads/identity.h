#pragma once

// Who a pipeline is and how its generated objects are named, labelled and
// owned. Every builder in this folder starts from these, so two objects of one
// pipeline always agree on names and selectors.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace outflow::op::workloads {

struct PipelineIdentity {
  std::string namespace_name;
  std::string name;
  std::string uid;
};

// Settings of the operator itself that shape every pipeline's workload.
struct OperatorDefaults {
  std::string agent_image;  // used when spec.agent.image is empty
  // Images (exact, or prefixes ending in `*`) a spec may name besides
  // agent_image; see image_policy.h.
  std::vector<std::string> allowed_agent_images;
  std::string image_pull_policy = "IfNotPresent";
  int metrics_port = 9090;
  int health_port = 9091;
};

// "<pipeline>-agent", shortened with a hash suffix to fit a DNS label (63),
// which Services require; all per-pipeline objects share this name.
std::string agent_name(const PipelineIdentity& pipeline);

// Label values are limited to 63 characters, pipeline names to 253.
std::string label_value(const std::string& text);

// Labels on every generated object; the first two are the pod selector.
nlohmann::json selector_labels(const PipelineIdentity& pipeline);
nlohmann::json common_labels(const PipelineIdentity& pipeline);

// metadata with name, namespace, labels and the controller owner reference, so
// Kubernetes garbage-collects the object with its pipeline.
nlohmann::json object_metadata(const PipelineIdentity& pipeline, const std::string& name);

}  // namespace outflow::op::workloads
