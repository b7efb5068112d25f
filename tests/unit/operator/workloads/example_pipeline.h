#pragma once

// Shipped example pipelines, parsed, for the workload builder tests.

#include "common/kube/yaml_json.h"
#include "common/pipeline/spec.h"
#include "operator/workloads/identity.h"

#include <fstream>
#include <sstream>
#include <string>

namespace outflow::testing {

inline pipeline::PipelineSpec example_spec(const std::string& file) {
  std::ifstream in(std::string(OUTFLOW_SOURCE_DIR) + "/crds/examples/" + file);
  std::ostringstream text;
  text << in.rdbuf();
  return pipeline::parse_spec(kube::parse_yaml_documents(text.str()).at(0).at("spec"));
}

inline op::workloads::PipelineIdentity identity(const std::string& name = "orders") {
  return {"shop", name, "0b5c1f0e-1111-4222-8333-444455556666"};
}

inline op::workloads::OperatorDefaults defaults() {
  op::workloads::OperatorDefaults d;
  d.agent_image = "registry.example/outflow-agent:0.1.0";
  return d;
}

}  // namespace outflow::testing
