#include "agent/options.h"

#include "common/cli_validators.h"

namespace outflow::agent {

void add_flags(CLI::App& app, Options& o) {
  app.add_option("--config", o.config_path, "Agent configuration file (kind: AgentConfig; written by hand or rendered by the operator)")
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
  app.add_option("--kubeconfig", o.kubeconfig,
                 "Path to a kubeconfig for the status section; without it the in-cluster service account is used")
      ->envname("KUBECONFIG");
  app.add_option_function<std::string>(
         "--status-interval",
         [&o](const std::string& text) {
           o.status_interval = cli::duration_or_throw(text, "--status-interval");
           // A change (a new error, a tenfold backlog) may wait this long to
           // be shown; an hour is already far too late for a person.
           if (o.status_interval > std::chrono::hours(1)) {
             throw CLI::ValidationError("--status-interval", "must be at most 1h, got " + text);
           }
         },
         "How often this pod looks at its state for its entry in the pipeline's status.agents, "
         "and the least time between two writes of changes other than the breaker's (e.g. 5s, "
         "500ms); breaker transitions are written at once, and nothing when nothing changed")
      ->default_str("5s");
}

}  // namespace outflow::agent
