#pragma once

// YAML (manifests, kubeconfig-style files, the agent config) to the JSON the
// Kubernetes API speaks. Plain scalars resolve the way kubectl resolves them
// (YAML 1.1: yes/no/on/off are booleans, 0x1F is an integer); quoted scalars
// and !!str stay strings.

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace YAML {
class Node;
}

namespace outflow::kube {

class YamlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

nlohmann::json yaml_to_json(const YAML::Node& node);

// Every non-empty document of a (multi-document) YAML text. Throws YamlError
// with the line and column of a syntax error.
std::vector<nlohmann::json> parse_yaml_documents(const std::string& text);

}  // namespace outflow::kube
