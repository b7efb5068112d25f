#pragma once

// Whether a pod's Ready condition is True, as the kubelet last reported it.

#include <nlohmann/json.hpp>

namespace outflow::node_e2e {

inline bool pod_ready(const nlohmann::json& pod) {
  for (const auto& c : pod["status"].value("conditions", nlohmann::json::array())) {
    if (c["type"] == "Ready") return c["status"] == "True";
  }
  return false;
}

}  // namespace outflow::node_e2e
