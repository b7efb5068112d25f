#pragma once

// The liveness Leases of one pipeline's agent pods (status::with_liveness
// reads them). One LIST by label, served from the API server's watch cache
// (resourceVersion=0): no etcd read, and only for pipelines that have agents.

#include "common/kube/api_client.h"

#include <nlohmann/json.hpp>

#include <string>

namespace outflow::op::controller {

// The Leases' items; an empty array when they cannot be read (logged): the
// agents then count as silent once their entries are older than the
// staleness limit, which is what a reader of the status should see.
nlohmann::json agent_leases(kube::ApiClient& api, const std::string& ns, const std::string& pipeline_uid);

}  // namespace outflow::op::controller
