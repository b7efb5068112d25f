#pragma once

// This agent pod's liveness, as one coordination.k8s.io/v1 Lease named after
// the pod in the pipeline's namespace, renewed by the pod every renew period
// (as kubelets carry node heartbeats since Kubernetes moved them out of Node
// status). The operator reads the Leases to tell a live agent from a dead one,
// so the pod's status.agents entry is written only when it says something new
// and watchers of EventPipelines see no heartbeat traffic at all.
//
// The Lease is owned by the pod (POD_UID from the downward API) or, when the
// pod's uid is not known, by the pipeline: either way it is garbage-collected.

#include "agent/config/agent_config.h"
#include "common/kube/api_client.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace outflow::agent {

// Labels that find the Leases of one pipeline's agents.
inline constexpr const char* kLivenessNameLabel = "app.kubernetes.io/name";
inline constexpr const char* kLivenessNameValue = "outflow-agent";
inline constexpr const char* kLivenessPipelineUidLabel = "outflow.dev/pipeline-uid";

struct LivenessSettings {
  std::chrono::seconds renew_every{10};
  // Promised to readers: the pod counts as gone once renewTime is older.
  std::chrono::seconds duration{40};
};

// Pure. The Lease to server-side apply: holderIdentity = pod, renewTime = now.
// `pod_uid` empty: owned by the pipeline instead of the pod.
nlohmann::json liveness_lease(const PipelineRef& pipeline, const std::string& pod, const std::string& pod_uid,
                              const LivenessSettings& settings, std::chrono::system_clock::time_point now);

class LivenessLease {
 public:
  // Starts renewing at once, on a thread of its own. Borrows `api`. Never
  // throws once constructed: a failed renewal is logged and tried again at
  // the next period (the operator sees a stale Lease only after `duration`).
  LivenessLease(kube::ApiClient& api, PipelineRef pipeline, std::string pod, std::string pod_uid,
                LivenessSettings settings = {});
  ~LivenessLease();  // stop()
  LivenessLease(const LivenessLease&) = delete;
  LivenessLease& operator=(const LivenessLease&) = delete;

  // Stops renewing (the Lease stays and expires; the pod's deletion removes it).
  void stop();

  std::uint64_t renewals() const { return renewals_.load(); }

 private:
  void run();
  bool renew();

  kube::ApiClient& api_;
  const PipelineRef pipeline_;
  const std::string pod_;
  const std::string pod_uid_;
  const LivenessSettings settings_;
  std::atomic<std::uint64_t> renewals_{0};
  std::string failing_with_;  // renewal thread only
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace outflow::agent
