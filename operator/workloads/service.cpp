#include "operator/workloads/service.h"

namespace outflow::op::workloads {

nlohmann::json agent_metrics_service(const PipelineIdentity& pipeline, const OperatorDefaults& defaults) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", object_metadata(pipeline, agent_name(pipeline))},
          {"spec",
           {{"selector", selector_labels(pipeline)},
            {"ports", nlohmann::json::array({{{"name", "metrics"},
                                              {"port", defaults.metrics_port},
                                              {"targetPort", "metrics"},
                                              {"protocol", "TCP"}}})}}}};
}

}  // namespace outflow::op::workloads
