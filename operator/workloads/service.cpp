#include "operator/workloads/service.h"

namespace outflow::op::workloads {

nlohmann::json agent_metrics_service(const PipelineIdentity& pipeline, const OperatorDefaults& defaults) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", object_metadata(pipeline, agent_name(pipeline))},
          {"spec",
           // Headless: Prometheus scrapes each agent through the Endpoints;
           // nothing balances load over them. No address taken from the
           // cluster's service range, no kube-proxy rules on every node.
           {{"clusterIP", "None"},
            {"selector", selector_labels(pipeline)},
            {"ports", nlohmann::json::array({{{"name", "metrics"},
                                              {"port", defaults.metrics_port},
                                              {"targetPort", "metrics"},
                                              {"protocol", "TCP"}}})}}}};
}

}  // namespace outflow::op::workloads
