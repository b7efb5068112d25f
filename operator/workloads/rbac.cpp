#include "operator/workloads/rbac.h"

#include "operator/workloads/agent_config.h"

namespace outflow::op::workloads {

using nlohmann::json;

json agent_service_account(const PipelineIdentity& pipeline) {
  return {{"apiVersion", "v1"},
          {"kind", "ServiceAccount"},
          {"metadata", object_metadata(pipeline, agent_name(pipeline))}};
}

json agent_role(const PipelineIdentity& pipeline) {
  // Server-side apply of its own status.agents entry is a PATCH; get lets it
  // read back what it applied. Nothing else: the agent reads its Secrets as
  // the files the Deployment mounts (kubelet fetches them), so a grant to
  // read them through the API would only widen what a stolen token opens.
  // No Leases either: the operator tells a live agent by its pod's Ready
  // condition, which kubelet writes; a grant to create Leases (RBAC cannot
  // limit create by name) would let an agent take any leader-election Lease
  // of the team's own applications.
  const json rules = json::array({
      {{"apiGroups", json::array({"outflow.dev"})},
       {"resources", json::array({"eventpipelines/status"})},
       {"resourceNames", json::array({pipeline.name})},
       {"verbs", json::array({"get", "patch"})}},
  });
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "Role"},
          {"metadata", object_metadata(pipeline, agent_name(pipeline))},
          {"rules", rules}};
}

json agent_role_binding(const PipelineIdentity& pipeline) {
  const auto name = agent_name(pipeline);
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "RoleBinding"},
          {"metadata", object_metadata(pipeline, name)},
          {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", name}}},
          {"subjects", json::array({{{"kind", "ServiceAccount"},
                                     {"name", name},
                                     {"namespace", pipeline.namespace_name}}})}};
}

}  // namespace outflow::op::workloads
