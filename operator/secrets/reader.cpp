#include "operator/secrets/reader.h"

#include "common/kube/cluster_endpoint.h"
#include "common/kube/resource.h"

namespace outflow::op::secrets {

SecretData read_secrets(kube::ApiClient& api, const std::string& ns, const std::vector<std::string>& names) {
  SecretData data;
  for (const auto& name : names) {
    const auto secret = api.get_if_exists(kube::kinds::secrets(), ns, name);
    if (!secret) continue;
    auto& keys = data[name];
    const auto values = secret->find("data");
    if (values == secret->end() || !values->is_object()) continue;
    for (const auto& [key, value] : values->items()) {
      if (value.is_string()) keys[key] = kube::decode_base64(value.get<std::string>());
    }
  }
  return data;
}

}  // namespace outflow::op::secrets
