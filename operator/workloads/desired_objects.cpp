#include "operator/workloads/desired_objects.h"

#include "operator/workloads/agent_config.h"
#include "operator/workloads/deployment.h"
#include "operator/workloads/prometheus_rule.h"
#include "operator/workloads/rbac.h"
#include "operator/workloads/service.h"

namespace outflow::op::workloads {

bool wants_alert_rules(const pipeline::PipelineSpec& spec) {
  return spec.alerts.defaults || !spec.alerts.rules.empty();
}

std::vector<DesiredObject> desired_objects(const PipelineIdentity& pipeline,
                                           const pipeline::PipelineSpec& spec,
                                           const OperatorDefaults& defaults,
                                           const std::string& rendered_config,
                                           const std::string& checksum, bool with_alert_rules) {
  namespace kinds = kube::kinds;
  std::vector<DesiredObject> objects{
      {kinds::service_accounts(), agent_service_account(pipeline)},
      {kinds::roles(), agent_role(pipeline)},
      {kinds::role_bindings(), agent_role_binding(pipeline)},
      {kinds::config_maps(), agent_config_map(pipeline, rendered_config)},
      {kinds::services(), agent_metrics_service(pipeline, defaults)},
      {kinds::deployments(), agent_deployment(pipeline, spec, defaults, checksum)},
  };
  if (with_alert_rules && wants_alert_rules(spec)) {
    objects.push_back({kinds::prometheus_rules(), agent_prometheus_rule(pipeline, spec)});
  }
  return objects;
}

}  // namespace outflow::op::workloads
