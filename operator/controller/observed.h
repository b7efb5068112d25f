#pragma once

// What one reconcile reads before it decides anything: the pipeline and the
// objects around it from the informer caches, the data of the Secrets its spec
// names, and the clocks. Filled by observe() (observe.h), read by the pure
// decisions (decide.h); nothing in it is ever written back.
//
// The other pipelines are not in it: their claims matter only once a topic
// check or deletion has asked the cluster for its id, and copying every
// cached pipeline on every reconcile would make each one cost O(pipelines).

#include "common/clock.h"
#include "operator/secrets/references.h"
#include "operator/status/agent_liveness.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace outflow::op::controller {

struct Observed {
  nlohmann::json pipeline;                   // the EventPipeline as cached
  // The Secrets the spec names, as they are now (one absent from the map does not exist)...
  secrets::SecretData secrets{};
  // ...and as last read, kept after a Secret is deleted: the finalizer's
  // credentials when a namespace being deleted has lost its Secrets first.
  secrets::SecretData secrets_last_seen{};
  std::optional<nlohmann::json> deployment{};  // the agent Deployment
  std::vector<std::string> agent_pods{};       // names of pods with the pipeline's selector labels
  // Every pod labelled outflow.dev/pipeline with this pipeline's name (its
  // agent pods and any sidecar agents'): their Ready condition is the agents' liveness.
  std::vector<status::AgentPod> labelled_pods{};
  bool alert_rules_supported = false;          // the PrometheusRule CRD is installed
  Clock::time_point now{};                     // steady: check and resync schedules
  std::int64_t now_unix = 0;                   // wall: heartbeats, timestamps, deletion bounds
};

}  // namespace outflow::op::controller
