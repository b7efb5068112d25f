#include "operator/controller/agent_leases.h"

#include "common/kube/errors.h"
#include "common/kube/resource.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace outflow::op::controller {

nlohmann::json agent_leases(kube::ApiClient& api, const std::string& ns, const std::string& pipeline_uid) {
  // The labels the agent puts on its Lease (agent/status/liveness_lease.h);
  // resourceVersion 0: from the watch cache.
  kube::ListOptions options;
  options.label_selector =
      fmt::format("app.kubernetes.io/name=outflow-agent,outflow.dev/pipeline-uid={}", pipeline_uid);
  options.resource_version.assign(1, '0');
  try {
    return api.list(kube::kinds::leases(), ns, options).value("items", nlohmann::json::array());
  } catch (const kube::ApiError& e) {
    spdlog::warn("cannot read the agents' liveness Leases in namespace {} (the operator needs list on "
                 "coordination.k8s.io leases): {}",
                 ns, e.what());
    return nlohmann::json::array();
  }
}

}  // namespace outflow::op::controller
