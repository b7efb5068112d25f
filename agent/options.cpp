#include "agent/options.h"

#include "common/cli_validators.h"

namespace outflow::agent {

void add_flags(CLI::App& app, Options& o) {
  app.add_option("--config", o.config_path, "Agent configuration file (rendered by the operator)")
      ->envname("OUTFLOW_AGENT_CONFIG")
      ->check(CLI::ExistingFile);
  app.add_option("--metrics-addr", o.metrics_addr, "Address for /metrics")
      ->check(cli::ListenAddressValidator())
      ->capture_default_str();
  app.add_option("--health-addr", o.health_addr, "Address for /healthz and /readyz")
      ->check(cli::ListenAddressValidator())
      ->capture_default_str();
  app.add_option("--log-format", o.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error")
      ->check(cli::LogLevelValidator())
      ->capture_default_str();
}

}  // namespace outflow::agent
