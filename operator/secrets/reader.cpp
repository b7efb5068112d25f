#include "operator/secrets/reader.h"

#include "common/kube/cluster_endpoint.h"
#include "common/kube/resource.h"

namespace outflow::op::secrets {

Fetched read_secrets(kube::ApiClient& api, const std::string& ns, const std::vector<std::string>& names) {
  Fetched fetched;
  for (const auto& name : names) {
    const auto secret = api.get_if_exists(kube::kinds::secrets(), ns, name);
    auto& version = fetched.versions[name];
    if (!secret) continue;
    version = secret->at("metadata").value("resourceVersion", "");
    auto& keys = fetched.data[name];
    const auto values = secret->find("data");
    if (values == secret->end() || !values->is_object()) continue;
    for (const auto& [key, value] : values->items()) {
      if (value.is_string()) keys[key] = kube::decode_base64(value.get<std::string>());
    }
  }
  return fetched;
}

}  // namespace outflow::op::secrets
