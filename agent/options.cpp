#include "agent/options.h"

#include "common/cli_serving_flags.h"
#include "common/cli_validators.h"

namespace outflow::agent {

void add_flags(CLI::App& app, Options& o) {
  app.add_option("--config", o.config_path, "Agent configuration file (kind: AgentConfig; written by hand or rendered by the operator)")
      ->envname("OUTFLOW_AGENT_CONFIG")
      ->check(CLI::ExistingFile);
  cli::add_serving_flags(app, {o.metrics_addr, o.health_addr, o.log_format, o.log_level});
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
