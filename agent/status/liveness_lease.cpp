#include "agent/status/liveness_lease.h"

#include "agent/status/status_entry.h"
#include "common/kube/lease_record.h"
#include "common/kube/resource.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

namespace outflow::agent {

using nlohmann::json;

json liveness_lease(const PipelineRef& pipeline, const std::string& pod, const std::string& pod_uid,
                    const LivenessSettings& settings, std::chrono::system_clock::time_point now) {
  const json owner = pod_uid.empty()
                         ? json{{"apiVersion", kube::kinds::event_pipelines().api_version()},
                                {"kind", "EventPipeline"},
                                {"name", pipeline.name},
                                {"uid", pipeline.uid}}
                         : json{{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", pod}, {"uid", pod_uid}};
  json metadata = {{"name", pod},
                   {"namespace", pipeline.namespace_name},
                   {"labels", {{kLivenessNameLabel, kLivenessNameValue}}},
                   {"ownerReferences", json::array({owner})}};
  if (!pipeline.uid.empty()) metadata["labels"][kLivenessPipelineUidLabel] = pipeline.uid;
  return {{"apiVersion", kube::kinds::leases().api_version()},
          {"kind", "Lease"},
          {"metadata", std::move(metadata)},
          {"spec",
           {{"holderIdentity", pod},
            {"leaseDurationSeconds", settings.duration.count()},
            {"renewTime", kube::format_micro_time(now)}}}};
}

LivenessLease::LivenessLease(kube::ApiClient& api, PipelineRef pipeline, std::string pod, std::string pod_uid,
                             LivenessSettings settings)
    : api_(api),
      pipeline_(std::move(pipeline)),
      pod_(std::move(pod)),
      pod_uid_(std::move(pod_uid)),
      settings_(settings),
      thread_([this] { run(); }) {}

LivenessLease::~LivenessLease() { stop(); }

void LivenessLease::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LivenessLease::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    renew();
    lock.lock();
    wake_.wait_for(lock, settings_.renew_every, [this] { return stopping_; });
  }
}

bool LivenessLease::renew() {
  try {
    api_.server_side_apply(kube::kinds::leases(), pipeline_.namespace_name, pod_,
                           liveness_lease(pipeline_, pod_, pod_uid_, settings_, std::chrono::system_clock::now()),
                           status_field_manager(pod_), true);
  } catch (const std::exception& e) {
    const std::string why = e.what();
    if (why != failing_with_) {
      spdlog::warn("liveness: cannot renew Lease {}/{} of pod {} (the operator will count it silent after {} s): {}",
                   pipeline_.namespace_name, pod_, pod_, settings_.duration.count(), why);
      failing_with_ = why;
    }
    return false;
  }
  if (!failing_with_.empty() || renewals_.load() == 0) {
    spdlog::info("liveness: pod {} renews Lease {}/{} every {} s", pod_, pipeline_.namespace_name, pod_,
                 settings_.renew_every.count());
  }
  failing_with_.clear();
  renewals_.fetch_add(1);
  return true;
}

}  // namespace outflow::agent
