#include "operator/controller/reconciler.h"

#include "common/kafka/admin.h"
#include "common/kube/errors.h"
#include "common/kube/leader_election.h"
#include "common/kube/resource.h"
#include "operator/controller/topics_recall.h"
#include "operator/topics/connection.h"
#include "operator/topics/finalizer.h"
#include "operator/workloads/identity.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

namespace outflow::op::controller {
namespace {

namespace kinds = kube::kinds;
using nlohmann::json;

class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("leadership lost; reconcile abandoned") {}
};

workloads::PipelineIdentity identity_of(const json& object) {
  const auto& m = object.at("metadata");
  return {m.at("namespace"), m.at("name"), m.at("uid")};
}

std::vector<std::string> names_of(const std::vector<pipeline::TopicSpec>& topics) {
  std::vector<std::string> names;
  for (const auto& t : topics) names.push_back(t.name);
  return names;
}

std::string join(const std::vector<std::string>& names) { return fmt::format("{}", fmt::join(names, ", ")); }

// While the agents stop, pod and Deployment events wake the finalizer; this
// is only the safety net.
constexpr std::chrono::seconds kAgentStopRecheck{10};

}  // namespace

Reconciler::Reconciler(kube::ApiClient& api, const ClusterView& view, kube::EventRecorder& events,
                       AdminClients& admins, Metrics& metrics, ReconcilerConfig config, const Clock& clock)
    : api_(api), view_(view), events_(events), admins_(admins), metrics_(metrics),
      config_(std::move(config)), clock_(clock) {}

void Reconciler::throw_if_cancelled() const {
  if (cancelled_) throw Cancelled();
  if (config_.write_fence) config_.write_fence();
}

Result Reconciler::reconcile(const std::string& key) {
  const auto slash = key.find('/');
  const auto ns = key.substr(0, slash);
  const auto name = key.substr(slash + 1);
  const auto started = clock_.now();
  const auto object = view_.pipeline(ns, name);
  Memory* memory = nullptr;
  {
    std::lock_guard lock(mu_);
    if (!object) {
      memory_.erase(key);  // gone: forget it (a re-created pipeline starts fresh)
      return {};
    }
    auto& slot = memory_[key];
    // A pipeline deleted and re-created under the same name must not inherit
    // the old one's memory.
    const auto uid = object->at("metadata").value("uid", "");
    if (slot.uid != uid) {
      slot = Memory{};
      slot.uid = uid;
    }
    memory = &slot;
  }
  Result result;
  std::string outcome = "success";
  try {
    throw_if_cancelled();
    result = object->at("metadata").contains("deletionTimestamp") ? finalize(*object, *memory)
                                                                  : reconcile_pipeline(*object, *memory);
    if (result.error) outcome = "error";
  } catch (const Cancelled&) {
    outcome = "error";
    result = {};
  } catch (const kube::LeaseNotHeld& e) {
    spdlog::info("reconcile {}: stopped: {}", key, e.what());
    outcome = "error";
    result = {};
  } catch (const kube::ApiError& e) {
    // Conflict: someone wrote in between (an agent, another controller); the
    // retry reads the new version. Anything else is logged and backed off.
    spdlog::log(e.kind() == kube::ErrorKind::Conflict ? spdlog::level::debug : spdlog::level::warn,
                "reconcile {}: {}", key, e.what());
    outcome = "error";
    result.error = true;
  } catch (const std::exception& e) {
    spdlog::warn("reconcile {}: {}", key, e.what());
    outcome = "error";
    result.error = true;
  }
  const auto took = clock_.now() - started;
  metrics_.reconciled(outcome, took);
  spdlog::debug("reconcile {}: {} in {} ms, next in {} ms", key, outcome,
                std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), result.requeue_after.count());
  return result;
}

bool Reconciler::alert_rules_supported() {
  std::lock_guard lock(mu_);
  const auto now = clock_.now();
  if (!prometheus_rules_installed_ || now - prometheus_rules_checked_ >= config_.resync_period) {
    prometheus_rules_installed_ =
        api_.get_if_exists(kinds::custom_resource_definitions(), "", "prometheusrules.monitoring.coreos.com")
            .has_value();
    prometheus_rules_checked_ = now;
  }
  return *prometheus_rules_installed_;
}

Observed Reconciler::observe_pipeline(const json& object, Memory& memory) {
  return observe(view_, api_, object, memory.secrets, [this] { return alert_rules_supported(); }, clock_);
}

void Reconciler::record(const json& object, const std::vector<Event>& events) {
  for (const auto& e : events) events_.record(object, e.type, e.reason, e.message);
}

Result Reconciler::apply_halt(const json& object, const Halt& halt) {
  const auto id = identity_of(object);
  if (halt.apply_status) {
    throw_if_cancelled();
    api_.server_side_apply(kinds::event_pipelines(), id.namespace_name, id.name, *halt.apply_status, kFieldManager,
                           true, "status");
  }
  if (halt.merge_patch) {
    throw_if_cancelled();
    api_.merge_patch(kinds::event_pipelines(), id.namespace_name, id.name, *halt.merge_patch,
                     {.field_manager = kFieldManager}, "status");
  }
  record(object, halt.events);
  return {};
}

TopicSyncResult Reconciler::apply_topic_step(const json& object, const Proceed& proceed) {
  const auto& step = proceed.topics;
  if (step.action == TopicAction::Report) return step.unchecked;
  if (step.action == TopicAction::Keep) return {};
  throw_if_cancelled();
  const auto uid = object.at("metadata").value("uid", "");
  const auto& bootstrap = proceed.spec.kafka.bootstrap_servers;
  const auto names = names_of(step.input.desired);
  const auto claims_for = [&](const std::string& cluster_id) {
    return view_.claims_on(names, uid, {cluster_id, bootstrap}, topics::same_cluster);
  };
  auto admin = admins_.get(step.connection, step.settings);
  return sync_topics(admin->get(), step.input, claims_for, step.last_known, step.timeout, metrics_, topic_creates_,
                     [this] { throw_if_cancelled(); });
}

std::optional<std::string> Reconciler::apply_workloads(const json& object, const Proceed& proceed,
                                                       Memory& memory, std::optional<json>& deployment) {
  const auto& step = proceed.workloads;
  if (step.refusal) return std::nullopt;
  try {
    throw_if_cancelled();
    LiveLookup live{[this](const kube::ResourceKind& kind) { return view_.caches_owned(kind); },
                    [this](const kube::ResourceKind& kind, const std::string& ns, const std::string& name) {
                      return view_.owned(kind, ns, name);
                    }};
    const auto synced = sync_workloads(api_, step.objects, memory.applied, step.full_check, live, kFieldManager);
    const auto id = identity_of(object);
    if (!synced.applied.empty()) spdlog::info("{}/{}: applied {}", id.namespace_name, id.name, join(synced.applied));
    // The status of this pass reports the Deployment as the pass last saw it
    // (just applied, or found in the cache), not as observed before the pass
    // began: for a new pipeline that was "missing", and the status said
    // DeploymentMissing and was written again as soon as the cache caught up.
    const auto seen = synced.seen.find(kinds::deployments().plural + "/" + workloads::agent_name(id));
    if (seen != synced.seen.end()) deployment = seen->second;
    return std::nullopt;
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ErrorKind::Conflict) throw;
    return std::string(e.what());
  }
}

Result Reconciler::reconcile_pipeline(const json& object, Memory& memory) {
  auto observed = observe_pipeline(object, memory);
  // First reconcile in this process: the stored status may vouch for the topics.
  if (!memory.topics.check) {
    if (auto recalled = recall_topics(observed, config_.topic_checks.resync)) memory.topics = std::move(*recalled);
  }
  const auto decision = decide(observed, memory.topics, memory.workloads, config_);
  if (const auto* halt = std::get_if<Halt>(&decision)) return apply_halt(object, *halt);
  const auto& proceed = std::get<Proceed>(decision);
  const auto id = identity_of(object);
  const auto generation = object.at("metadata").value("generation", std::int64_t{0});

  if (proceed.finalizer_patch) {
    throw_if_cancelled();
    api_.json_patch(kinds::event_pipelines(), id.namespace_name, id.name, *proceed.finalizer_patch,
                    {.field_manager = kFieldManager});
  }

  const auto topic_result = apply_topic_step(object, proceed);
  const auto topics_after = after_topics(memory.topics, proceed.topics, topic_result, generation, observed.now);
  record(object, topic_events(memory.topics, topics_after, proceed.topics, topic_result));
  memory.topics = topics_after;

  const auto workload_error = apply_workloads(object, proceed, memory, observed.deployment);
  memory.workloads =
      after_workloads(memory.workloads, proceed.workloads, !workload_error, generation, observed.now);

  const auto report = conclude(observed, proceed, memory.topics, memory.workloads, workload_error, config_);
  record(object, report.events);
  if (report.status) {
    throw_if_cancelled();
    api_.server_side_apply(kinds::event_pipelines(), id.namespace_name, id.name, *report.status, kFieldManager,
                           true, "status");
  }
  if (!report.prune_patch.empty()) {
    throw_if_cancelled();
    api_.json_patch(kinds::event_pipelines(), id.namespace_name, id.name, report.prune_patch,
                    {.field_manager = kFieldManager}, "status");
  }
  Result result;
  result.requeue_after = std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                    report.next - clock_.now()));
  result.error = workload_error.has_value();
  return result;
}

Result Reconciler::finalize(const json& object, Memory& memory) {
  if (!topics::has_finalizer(object)) return {};
  return apply_teardown(object, decide_teardown(observe_pipeline(object, memory), config_));
}

void Reconciler::scale_agents_to_zero(const json& object) {
  const auto id = identity_of(object);
  const auto name = workloads::agent_name(id);
  throw_if_cancelled();
  try {
    api_.merge_patch(kinds::deployments(), id.namespace_name, name, {{"spec", {{"replicas", 0}}}},
                     {.field_manager = kFieldManager});
    spdlog::info("{}/{}: scaled Deployment {} to 0 before deleting topics", id.namespace_name, id.name, name);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ErrorKind::NotFound) throw;  // already gone: nothing runs
  }
}

topics::TeardownStep Reconciler::delete_topics(const json& object, const Teardown& teardown) {
  const auto id = identity_of(object);
  const auto& spec = *teardown.spec;
  const auto& settings = *teardown.kafka.settings;
  if (!teardown.kafka.from_last_seen.empty()) {
    spdlog::info("{}/{}: Secret(s) {} no longer exist; deleting topics with the Kafka credentials last read from "
                 "them",
                 id.namespace_name, id.name, join(teardown.kafka.from_last_seen));
  }
  try {
    auto admin = admins_.get(topics::connection_key(settings), settings);
    const auto timeout = std::chrono::milliseconds(spec.kafka.request_timeout_ms);
    throw_if_cancelled();
    // Ask the cluster who it is now rather than trusting the status: the
    // other pipelines' claims are matched against this id, and one whose id
    // is unknown keeps every topic it names.
    const topics::ClusterIdentity here{kafka::cluster_id(admin->get(), timeout), spec.kafka.bootstrap_servers};
    metrics_.admin_call("cluster_id", true);
    const auto plan =
        topics::deletion_plan(teardown.facts.desired, teardown.facts.created, teardown.facts.self,
                              view_.claims_on(names_of(teardown.facts.desired), id.uid, here, topics::may_be_same_cluster));
    for (const auto& k : plan.retained) {
      spdlog::info("{}/{}: keeping topic {}: {}", id.namespace_name, id.name, k.topic, k.message);
    }
    if (plan.remove.empty()) return topics::after_deletion(teardown.facts, plan, {});
    throw_if_cancelled();
    const auto outcomes = kafka::delete_topics(admin->get(), plan.remove, timeout);
    metrics_.admin_call("delete_topics", true);
    std::vector<std::string> failed;
    for (const auto& o : outcomes) {
      if (!o.ok()) failed.push_back(fmt::format("{}: {}", o.name, o.message.empty() ? rd_kafka_err2str(o.error) : o.message));
    }
    return topics::after_deletion(teardown.facts, plan, failed);
  } catch (const kafka::AdminError& e) {
    metrics_.admin_call("delete_topics", false);
    return topics::after_failure(teardown.facts, fmt::format("Kafka unreachable: {}", e.what()));
  }
}

Result Reconciler::apply_teardown(const json& object, const Teardown& teardown) {
  const auto to_events = [](const std::vector<topics::Note>& notes) {
    std::vector<Event> events;
    for (const auto& n : notes) {
      events.push_back({n.warning ? kube::EventType::Warning : kube::EventType::Normal, n.reason, n.message});
    }
    return events;
  };
  auto step = teardown.step;
  if (step.scale_agents_to_zero) scale_agents_to_zero(object);
  if (step.action == topics::TeardownAction::StopAgents) {
    record(object, to_events(step.notes));
    return {.requeue_after = std::min<std::chrono::milliseconds>(step.look_again_in, kAgentStopRecheck),
            .error = false};
  }
  if (step.action == topics::TeardownAction::DeleteTopics) {
    record(object, to_events(step.notes));
    step = delete_topics(object, teardown);
  }
  record(object, to_events(step.notes));
  if (step.action == topics::TeardownAction::Retry) return {.requeue_after = {}, .error = true};
  const auto id = identity_of(object);
  throw_if_cancelled();
  api_.json_patch(kinds::event_pipelines(), id.namespace_name, id.name, topics::remove_finalizer_patch(object),
                  {.field_manager = kFieldManager});
  return {};
}

}  // namespace outflow::op::controller
