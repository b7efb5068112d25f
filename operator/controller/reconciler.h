#pragma once

// One reconcile of one EventPipeline, controller-runtime style: read the
// desired state (the spec) and the observed state (informer caches, Secrets,
// the broker), make the calls the pure planners ask for, write the status,
// and say when to come back. The reconciler holds what it learnt about each
// pipeline between reconciles (last topic check, objects applied, Secret
// versions) so that a reconcile with nothing new makes no request to Kafka or
// to the API server.

#include "common/clock.h"
#include "common/kube/api_client.h"
#include "common/kube/event_recorder.h"
#include "operator/controller/admin_clients.h"
#include "operator/controller/cluster_view.h"
#include "operator/controller/metrics.h"
#include "operator/controller/workload_sync.h"
#include "operator/secrets/references.h"
#include "operator/topics/check_schedule.h"
#include "operator/topics/status.h"
#include "operator/workloads/identity.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace outflow::op::controller {

inline constexpr const char* kFieldManager = "outflow-operator";

struct ReconcilerConfig {
  workloads::OperatorDefaults defaults{};
  std::chrono::milliseconds resync_period{std::chrono::minutes(10)};
  // How long topic deletion is retried before the finalizer goes anyway.
  std::chrono::seconds topic_deletion_timeout{std::chrono::minutes(5)};
  // An agent entry whose heartbeat is older counts as unknown.
  std::chrono::seconds heartbeat_stale_after{std::chrono::seconds(60)};
  topics::CheckPolicy topic_checks{};
  // Asked before each step that writes (to Kafka too); throws
  // kube::LeaseNotHeld when this process may not write. Empty: always may.
  kube::WriteFence write_fence{};
};

struct Result {
  // Come back after this long (0: only when something changes).
  std::chrono::milliseconds requeue_after{0};
  // Failed: retry with the work queue's per-item back-off.
  bool error = false;
};

class Reconciler {
 public:
  // Borrows everything; all must outlive the reconciler.
  Reconciler(kube::ApiClient& api, const ClusterView& view, kube::EventRecorder& events,
             AdminClients& admins, Metrics& metrics, ReconcilerConfig config,
             const Clock& clock = SteadyClock::instance());

  // Safe to call from several threads for different keys ("namespace/name");
  // the work queue never hands one key to two workers.
  Result reconcile(const std::string& key);

  // Set when leadership is lost: a reconcile in flight stops before its next write.
  void cancel() { cancelled_ = true; }
  void resume() { cancelled_ = false; }

 private:
  struct Memory {
    std::string uid;
    std::optional<topics::CheckHistory> topic_check;
    std::vector<topics::TopicStatus> topic_statuses;
    topics::TopicsReadyCondition topics_condition;
    std::string topics_summary;
    std::string kafka_cluster_id;  // from the last topic check; empty: unknown
    std::map<std::string, std::string> secret_versions;
    secrets::SecretData secrets;
    AppliedRecords applied;
    std::int64_t workloads_generation = -1;
    std::string workloads_checksum;
    Clock::time_point workloads_checked{};
    std::string last_topics_reason;
  };

  Result reconcile_pipeline(const nlohmann::json& object, Memory& memory);
  Result finalize(const nlohmann::json& object, Memory& memory);
  Result write_paused_status(const nlohmann::json& object);
  const secrets::SecretData& load_secrets(const std::string& ns, const std::vector<std::string>& names,
                                          Memory& memory);
  bool alert_rules_supported();
  void throw_if_cancelled() const;

  kube::ApiClient& api_;
  const ClusterView& view_;
  kube::EventRecorder& events_;
  AdminClients& admins_;
  Metrics& metrics_;
  const ReconcilerConfig config_;
  const Clock& clock_;
  std::atomic<bool> cancelled_{false};

  std::mutex mu_;  // guards memory_ (the map, not the entries) and the CRD probe
  std::map<std::string, Memory> memory_;
  std::optional<bool> prometheus_rules_installed_;
  Clock::time_point prometheus_rules_checked_{};
};

}  // namespace outflow::op::controller
