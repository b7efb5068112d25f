#pragma once

// The agent's command line.

#include <CLI/CLI.hpp>

#include <chrono>
#include <string>

namespace outflow::agent {

struct Options {
  std::string config_path;  // the YAML the operator renders into the agent ConfigMap
  std::string metrics_addr = ":9090";
  std::string health_addr = ":9091";
  std::string log_format = "text";
  std::string log_level = "info";
  std::string kubeconfig;  // empty: in-cluster configuration (the pod's service account)
  // Heartbeat of this pod's entry in status.agents; breaker transitions are
  // written at once regardless.
  std::chrono::milliseconds status_interval = std::chrono::seconds(5);
};

void add_flags(CLI::App& app, Options& options);

}  // namespace outflow::agent
