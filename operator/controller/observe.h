#pragma once

// The observe step of a reconcile: informer cache reads (and the Secrets'
// data) into an Observed, no decision and no write.

#include "common/clock.h"
#include "common/kube/api_client.h"
#include "operator/controller/cluster_view.h"
#include "operator/controller/observed.h"
#include "operator/secrets/remembered.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace outflow::op::controller {

using SecretsRead = secrets::Remembered;

// The data of the Secrets `names` in `ns`. The only place Secret data is
// read: through the API, and only when secrets::must_read says so.
void read_secrets(kube::ApiClient& api, const ClusterView& view, const std::string& ns,
                  const std::vector<std::string>& names, SecretsRead& memory);

// `alert_rules_supported` is asked only when the spec wants alert rules (it
// may cost a request).
Observed observe(const ClusterView& view, kube::ApiClient& api, const nlohmann::json& pipeline,
                 SecretsRead& secrets, const std::function<bool()>& alert_rules_supported, const Clock& clock);

}  // namespace outflow::op::controller
