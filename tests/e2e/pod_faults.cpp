#include "e2e/pod_faults.h"

#include "child_process.h"
#include "e2e/pod_ready.h"
#include "e2e/shell.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>

namespace outflow::node_e2e {

using nlohmann::json;
using namespace std::chrono_literals;

PodFaults::PodFaults(std::string kubectl, std::string selector, int replicas)
    : kubectl_(std::move(kubectl)), selector_(std::move(selector)), replicas_(replicas) {}

void PodFaults::kill_broker(std::chrono::milliseconds down) { chaos::crash_broker(down); }

void PodFaults::restart_database() { chaos::restart_database(); }

std::string PodFaults::describe(chaos::Fault fault) const {
  return fault == chaos::Fault::Agent ? "agent pod force-deleted" : chaos::name(fault);
}

std::vector<std::string> PodFaults::live_pods() const {
  const auto r = e2e::shell(kubectl_ + " get pods -o json -l " + e2e::shell_quoted(selector_));
  if (r.exit_code != 0) return {};
  const auto list = json::parse(r.output);  // kept: a range-for over a temporary's member would dangle
  std::vector<std::string> names;
  for (const auto& pod : list["items"]) {
    if (pod["metadata"].contains("deletionTimestamp") || pod["status"].value("phase", "") != "Running") continue;
    if (pod_ready(pod)) names.push_back(pod["metadata"]["name"].get<std::string>());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void PodFaults::kill_agent(int replica, std::chrono::milliseconds) {
  // The pods of the last fault may still be starting.
  std::vector<std::string> pods;
  if (!testenv::eventually([&] { return (pods = live_pods()).size() == static_cast<std::size_t>(replicas_); }, 180s,
                           500ms)) {
    throw std::runtime_error("not " + std::to_string(replicas_) + " Ready agent pods to delete one of");
  }
  const auto victim = pods[static_cast<std::size_t>(replica) % pods.size()];
  const auto r = e2e::shell(kubectl_ + " delete pod " + victim + " --force --grace-period=0 --wait=false");
  if (r.exit_code != 0) throw std::runtime_error("kubectl delete pod " + victim + ": " + r.output);
  deleted_.push_back(victim);
  const bool replaced = testenv::eventually(
      [&] {
        const auto now = live_pods();
        return now.size() == static_cast<std::size_t>(replicas_) &&
               std::find(now.begin(), now.end(), victim) == now.end();
      },
      180s, 500ms);
  if (!replaced) throw std::runtime_error("the Deployment did not replace " + victim + " with a Ready pod in 180 s");
}

}  // namespace outflow::node_e2e
