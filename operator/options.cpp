#include "operator/options.h"

#include "common/cli_validators.h"

namespace outflow::op {

void add_flags(CLI::App& app, Options& o) {
  app.add_option("--kubeconfig", o.kubeconfig,
                 "Path to a kubeconfig; without it the in-cluster service account is used")
      ->envname("KUBECONFIG");
  app.add_option("--namespaces", o.namespaces,
                 "Namespaces to watch, comma-separated (default: all namespaces)")
      ->delimiter(',');
  app.add_flag("--leader-elect", o.leader_elect,
               "Elect a leader on a coordination.k8s.io Lease so only one replica reconciles");
  app.add_option("--leader-election-namespace", o.leader_election_namespace,
                 "Namespace of the leader-election Lease (default: the operator pod's namespace)")
      ->envname("POD_NAMESPACE");
  app.add_option("--agent-image", o.agent_image,
                 "Agent image for pipelines whose spec.agent.image is empty")
      ->envname("OUTFLOW_AGENT_IMAGE");
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
  app.add_option_function<std::string>(
         "--resync-period",
         [&o](const std::string& text) { o.resync_period = cli::duration_or_throw(text, "--resync-period"); },
         "How often every pipeline is reconciled even without changes (e.g. 30s, 10m)")
      ->default_str("10m");
}

}  // namespace outflow::op
