#pragma once

// The chaos suite's faults for agents that run as pods on the test
// environment's node: a replica is `kubectl delete pod --force
// --grace-period=0`, as someone clearing a stuck node does. The API object
// goes at once, the Deployment starts a replacement at once, and the kubelet
// stops the old container in its own time, so for a while the old process
// and its replacement run side by side. The broker and PostgreSQL crash as
// they do for processes (chaos/faults.h).

#include "chaos/faults.h"

#include <chrono>
#include <string>
#include <vector>

namespace outflow::node_e2e {

class PodFaults : public chaos::FaultInjector {
 public:
  // `kubectl`: the command with its namespace ("<bin>/kubectl -n <ns>");
  // `selector`: the agent pods of one pipeline, `replicas` of them.
  PodFaults(std::string kubectl, std::string selector, int replicas);
  void kill_broker(std::chrono::milliseconds down) override;
  // Force-deletes the `replica`-th of the pipeline's pods (by name) and
  // returns once `replicas` pods, none of them the deleted one, are Ready.
  // `down` is the Deployment's to choose: not used.
  void kill_agent(int replica, std::chrono::milliseconds down) override;
  void restart_database() override;
  std::string describe(chaos::Fault fault) const override;

  // Every pod force-deleted so far.
  const std::vector<std::string>& deleted() const { return deleted_; }

 private:
  std::vector<std::string> live_pods() const;  // Running, Ready, not being deleted; sorted

  std::string kubectl_;
  std::string selector_;
  int replicas_;
  std::vector<std::string> deleted_;
};

}  // namespace outflow::node_e2e
