#pragma once

// The agent's command line.

#include <CLI/CLI.hpp>

#include <string>

namespace outflow::agent {

struct Options {
  std::string config_path;  // the YAML the operator renders into the agent ConfigMap
  std::string metrics_addr = ":9090";
  std::string health_addr = ":9091";
  std::string log_format = "text";
  std::string log_level = "info";
};

void add_flags(CLI::App& app, Options& options);

}  // namespace outflow::agent
