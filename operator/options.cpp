#include "operator/options.h"

#include "common/cli_serving_flags.h"
#include "common/cli_validators.h"
#include "operator/workloads/image_policy.h"

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
  app.add_option("--allowed-agent-images", o.allowed_agent_images,
                 "Images spec.agent.image may name besides --agent-image, comma-separated: exact "
                 "references, or prefixes ending in * (registry.example/outflow-agent:*). Default: "
                 "only --agent-image; other images are refused with AgentsReady=False")
      ->delimiter(',');
  cli::add_serving_flags(app, {o.metrics_addr, o.health_addr, o.log_format, o.log_level});
  app.add_option_function<std::string>(
         "--resync-period",
         [&o](const std::string& text) { o.resync_period = cli::duration_or_throw(text, "--resync-period"); },
         "How often every pipeline is reconciled even without changes (e.g. 30s, 10m)")
      ->default_str("10m");
  app.add_option("--workers", o.workers, "Pipelines reconciled in parallel")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option_function<std::string>(
         "--topic-deletion-timeout",
         [&o](const std::string& text) {
           o.topic_deletion_timeout = cli::duration_or_throw(text, "--topic-deletion-timeout");
         },
         "How long topicDeletionPolicy: Delete retries deleting topics before it removes the "
         "finalizer anyway (with a Warning Event)")
      ->default_str("5m");
  app.add_option("--leader-election-id", o.leader_election_id, "Name of the leader-election Lease")
      ->capture_default_str();
  const auto duration_flag = [&app](const char* name, std::chrono::milliseconds& target, const char* help,
                                    const char* default_text) {
    app.add_option_function<std::string>(
           name, [&target, name](const std::string& text) { target = cli::duration_or_throw(text, name); }, help)
        ->default_str(default_text);
  };
  duration_flag("--leader-election-lease-duration", o.lease_duration,
                "How long a leader's lease lasts without renewal", "10s");
  duration_flag("--leader-election-renew-deadline", o.renew_deadline,
                "How long the leader keeps trying to renew before it stops reconciling", "7s");
  duration_flag("--leader-election-retry-period", o.retry_period,
                "How often candidates and the leader look at the lease", "1s");
}

std::optional<std::string> validate(const Options& o) {
  if (!(o.retry_period < o.renew_deadline && o.renew_deadline < o.lease_duration)) {
    return "--leader-election-retry-period < --leader-election-renew-deadline < "
           "--leader-election-lease-duration must hold, or a leader could lose its lease "
           "while it still reconciles";
  }
  if (o.leader_elect && o.leader_election_namespace.empty()) {
    return "--leader-elect needs --leader-election-namespace (or the POD_NAMESPACE environment "
           "variable)";
  }
  for (const auto& pattern : o.allowed_agent_images) {
    if (auto problem = workloads::invalid_image_pattern(pattern)) return problem;
  }
  return std::nullopt;
}

}  // namespace outflow::op
