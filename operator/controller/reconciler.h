#pragma once

// One reconcile of one EventPipeline, controller-runtime style, in three
// steps: observe (informer caches and the Secrets' data into an Observed,
// observe.h), decide (pure functions from that to the calls to make and the
// status to report, decide.h), apply (this file: the calls, thin). The
// reconciler holds what it learnt about each pipeline between reconciles (last
// topic check, objects applied, Secret versions) so that a reconcile with
// nothing new makes no request to Kafka or to the API server.

#include "common/clock.h"
#include "common/kafka/create_batcher.h"
#include "common/kube/api_client.h"
#include "common/kube/event_recorder.h"
#include "operator/controller/admin_clients.h"
#include "operator/controller/cluster_view.h"
#include "operator/controller/decide.h"
#include "operator/controller/metrics.h"
#include "operator/controller/observe.h"
#include "operator/controller/reconcile_config.h"
#include "operator/controller/workload_sync.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace outflow::op::controller {

inline constexpr const char* kFieldManager = "outflow-operator";

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
    SecretsRead secrets;
    TopicsKnown topics;
    WorkloadsKnown workloads;
    AppliedRecords applied;
  };

  Result reconcile_pipeline(const nlohmann::json& object, Memory& memory);
  Result finalize(const nlohmann::json& object, Memory& memory);
  Observed observe_pipeline(const nlohmann::json& object, Memory& memory);
  Result apply_halt(const nlohmann::json& object, const Halt& halt);
  TopicSyncResult apply_topic_step(const nlohmann::json& object, const Proceed& proceed);
  // `deployment` becomes the agent Deployment as this pass last saw it.
  std::optional<std::string> apply_workloads(const nlohmann::json& object, const Proceed& proceed, Memory& memory,
                                             std::optional<nlohmann::json>& deployment);
  Result apply_teardown(const nlohmann::json& object, const Teardown& teardown);
  topics::TeardownStep delete_topics(const nlohmann::json& object, const Teardown& teardown);
  void scale_agents_to_zero(const nlohmann::json& object);
  void record(const nlohmann::json& object, const std::vector<Event>& events);
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
  // Every worker's topic creations on one client share a CreateTopics request.
  kafka::CreateTopicsBatcher topic_creates_;

  std::mutex mu_;  // guards memory_ (the map, not the entries) and the CRD probe
  std::map<std::string, Memory> memory_;
  std::optional<bool> prometheus_rules_installed_;
  Clock::time_point prometheus_rules_checked_{};
};

}  // namespace outflow::op::controller
