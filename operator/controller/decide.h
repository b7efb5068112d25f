#pragma once

// One reconcile of one EventPipeline as pure functions, from what observe()
// read (and what earlier reconciles learnt) to the calls to make and what to
// report; reconciler.cpp makes the calls. Where a spec field takes effect:
// decide() hands each part of the spec to the planner that owns it
// (topics/, workloads/, secrets/, status/), and those planners are the
// second and last hop.
//
// Two halves, because the status reports what Kafka and the API server
// answered in this same reconcile:
//   decide()    before any call: halt (invalid or paused spec), or the
//               finalizer patch, the topic step and the agent objects;
//   conclude()  after the calls: the status, the pruning of status.agents,
//               Events and when to come back.
// A pipeline being deleted goes through decide_teardown() instead.

#include "common/kafka/client_config.h"
#include "common/kube/event_recorder.h"
#include "common/pipeline/spec.h"
#include "operator/controller/observed.h"
#include "operator/controller/reconcile_config.h"
#include "operator/controller/topic_sync.h"
#include "operator/topics/check_schedule.h"
#include "operator/topics/plan.h"
#include "operator/topics/teardown.h"
#include "operator/workloads/desired_objects.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace outflow::op::controller {

// What the reconciler remembers about a pipeline's topics between
// reconciles, so that a reconcile with nothing new asks Kafka nothing.
struct TopicsKnown {
  std::optional<topics::CheckHistory> check{};
  std::vector<topics::TopicStatus> statuses{};
  topics::TopicsReadyCondition condition{};
  std::string summary{};
  std::string cluster_id{};     // from the last check; empty: unknown
  std::string warned_reason{};  // the TopicsReady reason a Warning Event last announced
};

// ...and about its agent objects: when they were last fully compared.
struct WorkloadsKnown {
  std::int64_t generation = -1;
  std::string checksum{};
  Clock::time_point checked{};
};

struct Event {
  kube::EventType type = kube::EventType::Normal;
  std::string reason;
  std::string message;
  bool operator==(const Event&) const = default;
};

// The reconcile ends with at most this status write (invalid or paused spec).
struct Halt {
  std::optional<nlohmann::json> apply_status{};  // server-side apply of this status
  std::optional<nlohmann::json> merge_patch{};   // or a merge patch of the object's status subresource
  std::vector<Event> events{};
};

enum class TopicAction {
  Keep,    // no check due: report what the last one found
  Report,  // cannot check (a Kafka Secret is missing): report `unchecked`
  Check,   // sync_topics() with `settings` and `input`
};

struct TopicStep {
  TopicAction action = TopicAction::Keep;
  TopicSyncResult unchecked{};
  kafka::ConnectionSettings settings{};
  std::string connection{};  // topics::connection_key(settings)
  // For the plan; sync_topics() adds what the broker has and the claims.
  topics::Input input{};
  std::vector<topics::TopicStatus> last_known{};
  std::chrono::milliseconds timeout{};  // spec.kafka.requestTimeoutMs
};

struct WorkloadStep {
  std::vector<workloads::DesiredObject> objects{};
  std::string checksum{};  // rendered config and referenced Secret data
  // Read every object, cached or not (generation or checksum changed, resync due).
  bool full_check = false;
  bool with_alert_rules = false;
  // The image the spec names is not allowed: apply nothing (and say why).
  std::optional<std::string> refusal{};
};

struct Proceed {
  pipeline::PipelineSpec spec;
  std::optional<nlohmann::json> finalizer_patch{};  // JSON patch adding or removing it
  TopicStep topics{};
  WorkloadStep workloads{};
  // Secrets only the agents need that are missing: AgentsReady says so.
  std::vector<secrets::MissingSecret> missing_for_agents{};
};

using Decision = std::variant<Halt, Proceed>;

Decision decide(const Observed& observed, const TopicsKnown& topics, const WorkloadsKnown& workloads,
                const ReconcilerConfig& config);

// What is known about the topics after the step: `result` is step.unchecked
// (Report), what sync_topics() returned (Check), or ignored (Keep).
TopicsKnown after_topics(const TopicsKnown& before, const TopicStep& step, const TopicSyncResult& result,
                         std::int64_t generation, Clock::time_point now);

// Normal Events for what the step changed on the broker, and a Warning when
// TopicsReady turns False for a reason not announced yet.
std::vector<Event> topic_events(const TopicsKnown& before, const TopicsKnown& after, const TopicStep& step,
                                const TopicSyncResult& result);

// After the workload step: `synced` when sync_workloads() went through.
WorkloadsKnown after_workloads(const WorkloadsKnown& before, const WorkloadStep& step, bool synced,
                               std::int64_t generation, Clock::time_point now);

struct Report {
  std::optional<nlohmann::json> status{};  // the operator's status fields, when they differ from the stored ones
  nlohmann::json prune_patch = nlohmann::json::array();  // JSON patch on status.agents; empty: none
  std::vector<Event> events{};
  Clock::time_point next{};  // come back then at the latest
};

// `workload_error`: why applying the agent objects failed, if it did.
Report conclude(const Observed& observed, const Proceed& proceed, const TopicsKnown& topics,
                const WorkloadsKnown& workloads, const std::optional<std::string>& workload_error,
                const ReconcilerConfig& config);

// The Kafka connection the finalizer can use: the Secrets as they are, or, for
// those deleted since (a namespace being deleted loses its Secrets before the
// pipeline), as the operator last read them in this process.
struct KafkaAccess {
  std::optional<kafka::ConnectionSettings> settings{};
  std::vector<std::string> from_last_seen{};  // Secrets used as last read
  std::string problem{};                     // no settings: why
};
KafkaAccess kafka_access(const pipeline::PipelineSpec& spec, const secrets::SecretData& now,
                         const secrets::SecretData& last_seen);

struct Teardown {
  topics::TeardownFacts facts;
  topics::TeardownStep step;
  std::optional<pipeline::PipelineSpec> spec{};  // nullopt: the spec cannot be read
  KafkaAccess kafka{};
};

// For a pipeline being deleted that carries the finalizer.
Teardown decide_teardown(const Observed& observed, const ReconcilerConfig& config);

}  // namespace outflow::op::controller
