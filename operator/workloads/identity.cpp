#include "operator/workloads/identity.h"

#include "operator/workloads/deployment.h"

namespace outflow::op::workloads {
namespace {

// Keeps `text` if it fits, else a prefix plus "-<8 hex>" of the whole text, so
// two long names that share a prefix still differ.
std::string fit(const std::string& text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::string prefix = text.substr(0, limit - 9);
  while (!prefix.empty() && (prefix.back() == '-' || prefix.back() == '.')) prefix.pop_back();
  return prefix + "-" + checksum_of({text}).substr(0, 8);
}

}  // namespace

std::string agent_name(const PipelineIdentity& pipeline) { return fit(pipeline.name + "-agent", 63); }

std::string label_value(const std::string& text) { return fit(text, 63); }

nlohmann::json selector_labels(const PipelineIdentity& pipeline) {
  return {{"app.kubernetes.io/name", "outflow-agent"},
          {"app.kubernetes.io/instance", label_value(pipeline.name)}};
}

nlohmann::json common_labels(const PipelineIdentity& pipeline) {
  auto labels = selector_labels(pipeline);
  labels["app.kubernetes.io/managed-by"] = "outflow-operator";
  labels["app.kubernetes.io/part-of"] = "outflow";
  labels["outflow.dev/pipeline"] = label_value(pipeline.name);
  return labels;
}

nlohmann::json object_metadata(const PipelineIdentity& pipeline, const std::string& name) {
  return {{"name", name},
          {"namespace", pipeline.namespace_name},
          {"labels", common_labels(pipeline)},
          {"ownerReferences",
           nlohmann::json::array({{{"apiVersion", "outflow.dev/v1alpha1"},
                                   {"kind", "EventPipeline"},
                                   {"name", pipeline.name},
                                   {"uid", pipeline.uid},
                                   {"controller", true},
                                   {"blockOwnerDeletion", true}}})}};
}

}  // namespace outflow::op::workloads
