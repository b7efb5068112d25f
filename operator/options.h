#pragma once

// The operator's command line: what each flag means and what values it accepts.

#include <CLI/CLI.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace outflow::op {

struct Options {
  std::string kubeconfig;               // empty: in-cluster configuration
  std::vector<std::string> namespaces;  // empty: all namespaces
  bool leader_elect = false;
  std::string leader_election_namespace;  // default: the pod's namespace (POD_NAMESPACE)
  std::string agent_image;                // image of agent pods whose spec names none
  // Images a spec.agent.image may name besides agent_image: exact references
  // or prefixes ending in `*`. Empty: the operator's own agent image only.
  std::vector<std::string> allowed_agent_images;
  std::string metrics_addr = ":8080";
  std::string health_addr = ":8081";
  std::string log_format = "text";
  std::string log_level = "info";
  std::chrono::milliseconds resync_period = std::chrono::minutes(10);
  int workers = 8;                           // pipelines reconciled in parallel
  std::chrono::milliseconds topic_deletion_timeout = std::chrono::minutes(5);
  std::string leader_election_id = "outflow-operator";  // the Lease's name
  // A standby takes over a killed leader's lease within lease_duration + 2 x
  // retry_period (x 1.2 jitter): 12.4 s, so failover to the first reconcile
  // fits in 15 s. The leader stops writing at the renew deadline, 3 s before
  // anyone may take over, and gets seven tries to renew before it must.
  // (controller-runtime's 15/10/2 puts a failover at about 18 s.)
  std::chrono::milliseconds lease_duration = std::chrono::seconds(10);
  std::chrono::milliseconds renew_deadline = std::chrono::seconds(7);
  std::chrono::milliseconds retry_period = std::chrono::seconds(1);
};

// Registers every flag on `app`, writing into `options`; invalid values make
// CLI11 fail with a message that names the flag.
void add_flags(CLI::App& app, Options& options);

// Rules between flags, checked after parsing; the message says what to change.
std::optional<std::string> validate(const Options& options);

}  // namespace outflow::op
