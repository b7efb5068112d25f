#pragma once

// The flags both binaries share: where they serve metrics and probes, and how
// they log. One definition, so the two never drift in spelling or checks.

#include "common/cli_validators.h"

#include <CLI/CLI.hpp>

#include <string>

namespace outflow::cli {

struct ServingFlags {
  std::string& metrics_addr;
  std::string& health_addr;
  std::string& log_format;
  std::string& log_level;
};

inline void add_serving_flags(CLI::App& app, const ServingFlags& f) {
  app.add_option("--metrics-addr", f.metrics_addr, "Address for /metrics")
      ->check(ListenAddressValidator())
      ->capture_default_str();
  app.add_option("--health-addr", f.health_addr, "Address for /healthz and /readyz")
      ->check(ListenAddressValidator())
      ->capture_default_str();
  app.add_option("--log-format", f.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error")
      ->check(LogLevelValidator())
      ->capture_default_str();
}

}  // namespace outflow::cli
