#include "operator/controller/reconciler.h"

#include "common/kafka/admin.h"
#include "common/kube/errors.h"
#include "common/kube/resource.h"
#include "common/pipeline/spec.h"
#include "common/time_format.h"
#include "operator/controller/topic_sync.h"
#include "operator/secrets/reader.h"
#include "operator/status/pipeline_status.h"
#include "operator/status/rollup.h"
#include "operator/topics/cluster_identity.h"
#include "operator/topics/connection.h"
#include "operator/topics/deletion.h"
#include "operator/topics/desired_topics.h"
#include "operator/topics/finalizer.h"
#include "operator/topics/ownership.h"
#include "operator/workloads/agent_config.h"
#include "operator/workloads/deployment.h"
#include "operator/workloads/desired_objects.h"
#include "operator/workloads/image_policy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace outflow::op::controller {
namespace {

namespace kinds = kube::kinds;
using nlohmann::json;

class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("leadership lost; reconcile abandoned") {}
};

std::string wall_now() { return format_rfc3339(std::chrono::system_clock::now()); }

std::int64_t wall_now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

workloads::PipelineIdentity identity_of(const json& object) {
  const auto& m = object.at("metadata");
  return {m.at("namespace"), m.at("name"), m.at("uid")};
}

topics::PipelineRef ref_of(const json& object) {
  const auto& m = object.at("metadata");
  return {m.value("namespace", "") + "/" + m.value("name", ""), m.value("creationTimestamp", ""),
          m.value("uid", "")};
}

json status_of(const json& object) { return object.value("status", json::object()); }

json agents_of(const json& object) {
  return status_of(object).value("agents", json::array());
}

std::vector<topics::TopicStatus> topic_statuses_from(const json& status) {
  std::vector<topics::TopicStatus> out;
  for (const auto& t : status.value("topics", json::array())) {
    topics::TopicStatus s;
    s.name = t.value("name", "");
    s.partitions = t.value("partitions", 0);
    s.replication_factor = t.value("replicationFactor", 0);
    const auto state = t.value("state", "Pending");
    s.state = state == "Ready" ? topics::TopicState::Ready
              : state == "Error" ? topics::TopicState::Error
                                 : topics::TopicState::Pending;
    s.reason = t.value("reason", "");
    s.message = t.value("message", "");
    s.managed = t.value("managed", false);
    s.origin = s.managed ? topics::origin_from_string(t.value("origin", "")) : topics::TopicOrigin::Unknown;
    out.push_back(std::move(s));
  }
  return out;
}

// The claims of every other pipeline whose cluster `matches` ours: the
// operator's own ownership rules (topics::same_cluster for conflicts,
// topics::may_be_same_cluster for deletion) decide on the cluster ids the
// pipelines recorded in their status.
std::vector<topics::Claim> claims_of_others(
    const std::vector<json>& pipelines, const std::string& self_uid, const topics::ClusterIdentity& self_cluster,
    bool (*matches)(const topics::ClusterIdentity&, const topics::ClusterIdentity&)) {
  std::vector<topics::Claim> claims;
  for (const auto& other : pipelines) {
    if (other.at("metadata").value("uid", "") == self_uid) continue;
    try {
      const auto spec = pipeline::parse_spec(other.value("spec", json::object()));
      const topics::ClusterIdentity theirs_at{status::kafka_cluster_id(status_of(other)),
                                              spec.kafka.bootstrap_servers};
      if (!matches(self_cluster, theirs_at)) continue;
      auto theirs = topics::claims_of(ref_of(other), spec);
      claims.insert(claims.end(), theirs.begin(), theirs.end());
    } catch (const pipeline::SpecError&) {
      // An invalid pipeline claims nothing; it reports its own problem.
    }
  }
  return claims;
}

std::string join(const std::vector<std::string>& names) { return fmt::format("{}", fmt::join(names, ", ")); }

json status_body(const json& object, json status) {
  return {{"apiVersion", "outflow.dev/v1alpha1"},
          {"kind", "EventPipeline"},
          {"metadata", {{"name", object.at("metadata").at("name")}, {"namespace", object.at("metadata").at("namespace")}}},
          {"status", std::move(status)}};
}

status::Condition condition(const std::string& type, bool ok, const std::string& reason,
                            const std::string& message, std::int64_t generation) {
  return status::make_condition(type, ok, reason, message, generation);
}

}  // namespace

Reconciler::Reconciler(kube::ApiClient& api, const ClusterView& view, kube::EventRecorder& events,
                       AdminClients& admins, Metrics& metrics, ReconcilerConfig config, const Clock& clock)
    : api_(api), view_(view), events_(events), admins_(admins), metrics_(metrics),
      config_(std::move(config)), clock_(clock) {}

void Reconciler::throw_if_cancelled() const {
  if (cancelled_) throw Cancelled();
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

const secrets::SecretData& Reconciler::load_secrets(const std::string& ns, const std::vector<std::string>& names,
                                                    Memory& memory) {
  std::map<std::string, std::string> versions;
  for (const auto& name : names) versions[name] = view_.secret_version(ns, name).value_or("");
  if (versions == memory.secret_versions) return memory.secrets;
  memory.secrets = secrets::read_secrets(api_, ns, names);
  memory.secret_versions = std::move(versions);
  return memory.secrets;
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

Result Reconciler::write_paused_status(const json& object) {
  const auto generation = object.at("metadata").value("generation", std::int64_t{0});
  const auto current = status_of(object);
  auto conditions = status::conditions_from_json(current.value("conditions", json::array()));
  conditions = status::set_condition(
      std::move(conditions),
      condition("Ready", false, "Paused",
                "spec.paused is true: the operator changes no topic, workload or alert rule of this "
                "pipeline; set it to false to resume",
                generation),
      wall_now());
  std::vector<status::Condition> ready_only;
  ready_only.push_back(*status::find_condition(conditions, "Ready"));
  const json desired = {{"observedGeneration", generation}, {"conditions", status::to_json(ready_only)}};
  if (status::needs_write(desired, current)) {
    // Only the Ready condition and observedGeneration: the rest of the status
    // keeps describing the pipeline as it was when it was paused.
    api_.merge_patch(kinds::event_pipelines(), object["metadata"]["namespace"].get<std::string>(),
                     object["metadata"]["name"].get<std::string>(),
                     {{"status", {{"observedGeneration", generation}, {"conditions", status::to_json(conditions)}}}},
                     {.field_manager = kFieldManager}, "status");
  }
  return {};
}

Result Reconciler::reconcile_pipeline(const json& object, Memory& memory) {
  const auto id = identity_of(object);
  const auto generation = object.at("metadata").value("generation", std::int64_t{0});
  const auto current_status = status_of(object);
  const auto now = clock_.now();

  pipeline::PipelineSpec spec;
  try {
    spec = pipeline::parse_spec(object.value("spec", json::object()));
  } catch (const pipeline::SpecError& e) {
    const auto message = fmt::format("the spec cannot be used: {}", join(e.problems()));
    const auto bad = condition("TopicsReady", false, "InvalidSpec", message, generation);
    status::Findings f{generation, bad, condition("AgentsReady", false, "InvalidSpec", message, generation),
                       condition("BreakersClosed", false, "InvalidSpec", message, generation),
                       condition("AlertsReady", false, "InvalidSpec", message, generation), {}, {"-", "-", "-"},
                       {}};
    const auto desired = status::operator_status(f, current_status, wall_now());
    if (status::needs_write(desired, current_status)) {
      throw_if_cancelled();
      api_.server_side_apply(kinds::event_pipelines(), id.namespace_name, id.name, status_body(object, desired),
                             kFieldManager, true, "status");
      events_.record(object, kube::EventType::Warning, "InvalidSpec", message);
    }
    return {};
  }

  if (spec.paused) return write_paused_status(object);

  // The finalizer exists only under topicDeletionPolicy: Delete.
  const bool delete_policy = spec.topic_deletion_policy == pipeline::TopicDeletionPolicy::Delete;
  switch (topics::finalizer_change(delete_policy, topics::has_finalizer(object))) {
    case topics::FinalizerChange::Add:
      throw_if_cancelled();
      api_.json_patch(kinds::event_pipelines(), id.namespace_name, id.name, topics::add_finalizer_patch(object),
                      {.field_manager = kFieldManager});
      break;
    case topics::FinalizerChange::Remove:
      throw_if_cancelled();
      api_.json_patch(kinds::event_pipelines(), id.namespace_name, id.name,
                      topics::remove_finalizer_patch(object), {.field_manager = kFieldManager});
      break;
    case topics::FinalizerChange::None:
      break;
  }

  // Secrets: what is missing, and the connection to Kafka.
  const auto& secret_data = load_secrets(id.namespace_name, workloads::referenced_secrets(spec), memory);
  const auto missing = secrets::missing_secrets(spec, secret_data);
  std::vector<secrets::MissingSecret> missing_kafka;
  std::vector<secrets::MissingSecret> missing_agent;
  for (const auto& m : missing) (m.kafka ? missing_kafka : missing_agent).push_back(m);

  // Topics.
  const auto desired_topics = topics::desired_topics(spec);
  std::string connection;
  std::optional<kafka::ConnectionSettings> settings;
  if (missing_kafka.empty()) {
    settings = topics::connection_settings(spec.kafka, secret_data);
    connection = topics::connection_key(*settings);
  }
  const auto last_known = memory.topic_statuses.empty() ? topic_statuses_from(current_status) : memory.topic_statuses;
  if (!missing_kafka.empty()) {
    const auto text = secrets::describe(missing_kafka);
    auto r = unchecked_topics(desired_topics, last_known, "SecretNotFound",
                              text + "; create it (or fix spec.kafka) and the operator continues", 
                              topics::CheckOutcome::Refused);
    memory.topic_statuses = r.statuses;
    memory.topics_condition = r.condition;
    memory.topics_summary = r.summary;
    memory.kafka_cluster_id.clear();  // no connection: which cluster is not known
    memory.topic_check = topics::record_check(memory.topic_check, generation, "", topics::CheckOutcome::Refused, now);
  } else if (topics::check_due(memory.topic_check, generation, connection, now, config_.topic_checks)) {
    throw_if_cancelled();
    topics::Input input;
    input.desired = desired_topics;
    input.managed = status::managed_topics(current_status);
    input.origins = status::topic_origins(current_status);
    for (const auto& s : memory.topic_statuses) {
      if (!s.managed) continue;
      input.managed.insert(s.name);
      if (s.origin != topics::TopicOrigin::Unknown) input.origins[s.name] = s.origin;
    }
    input.self = ref_of(object);
    const auto claims_for = [&](const std::string& cluster_id) {
      return claims_of_others(view_.pipelines(), id.uid, {cluster_id, spec.kafka.bootstrap_servers},
                              topics::same_cluster);
    };
    auto admin = admins_.get(connection, *settings);
    auto r = sync_topics(admin->get(), input, claims_for, last_known,
                         std::chrono::milliseconds(spec.kafka.request_timeout_ms), metrics_);
    memory.kafka_cluster_id = r.cluster_id;
    memory.topic_statuses = r.statuses;
    memory.topics_condition = r.condition;
    memory.topics_summary = r.summary;
    memory.topic_check = topics::record_check(memory.topic_check, generation, connection, r.outcome, now);
    for (const auto& [names, reason, verb] :
         {std::tuple{r.created, "TopicsCreated", "created"}, std::tuple{r.grown, "PartitionsIncreased", "added partitions to"},
          std::tuple{r.reconfigured, "TopicConfigUpdated", "updated the config of"},
          std::tuple{r.adopted, "TopicsAdopted", "adopted existing"}}) {
      if (!names.empty()) {
        events_.record(object, kube::EventType::Normal, reason, fmt::format("{} {}", verb, join(names)));
      }
    }
  }
  if (topics::worth_a_warning(memory.topics_condition) &&
      memory.topics_condition.reason != memory.last_topics_reason) {
    events_.record(object, kube::EventType::Warning, memory.topics_condition.reason, memory.topics_condition.message);
  }
  memory.last_topics_reason = memory.topics_condition.ready ? "" : memory.topics_condition.reason;

  // Workloads.
  const auto rendered = workloads::render_agent_config(workloads::agent_config(id, spec));
  auto checksum_parts = secrets::checksum_parts(spec, secret_data);
  checksum_parts.insert(checksum_parts.begin(), rendered);
  const auto checksum = workloads::checksum_of(checksum_parts);
  const bool with_rules = workloads::wants_alert_rules(spec) && alert_rules_supported();
  const auto objects = workloads::desired_objects(id, spec, config_.defaults, rendered, checksum, with_rules);
  const bool full_check = memory.workloads_generation != generation || memory.workloads_checksum != checksum ||
                          now - memory.workloads_checked >= config_.resync_period;
  std::optional<std::string> workload_error;
  // An image the administrators did not allow changes nothing: whatever was
  // applied last keeps running (or nothing, for a new pipeline).
  const auto image_refusal = workloads::refuse_agent_image(spec.agent.image, config_.defaults);
  if (image_refusal) memory.workloads_checked = now;  // requeue at the resync, not at once
  if (!image_refusal) try {
    throw_if_cancelled();
    LiveLookup live{
        [](const kube::ResourceKind& kind) {
          return kind == kinds::deployments() || kind == kinds::config_maps();
        },
        [this](const kube::ResourceKind& kind, const std::string& ns, const std::string& name) {
          return kind == kinds::deployments() ? view_.deployment(ns, name) : view_.config_map(ns, name);
        }};
    const auto synced = sync_workloads(api_, objects, memory.applied, full_check, live, kFieldManager);
    if (full_check) {
      memory.workloads_generation = generation;
      memory.workloads_checksum = checksum;
      memory.workloads_checked = now;
    }
    if (!synced.applied.empty()) spdlog::info("{}/{}: applied {}", id.namespace_name, id.name, join(synced.applied));
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ErrorKind::Conflict) throw;
    workload_error = e.what();
  }

  // Agents and breakers.
  status::AgentsObserved agents;
  agents.desired = spec.agent.replicas;
  const auto name = workloads::agent_name(id);
  if (const auto deployment = view_.deployment(id.namespace_name, name)) {
    agents.deployment_found = true;
    const auto st = deployment->value("status", json::object());
    agents.ready = st.value("readyReplicas", 0);
    agents.updated = st.value("updatedReplicas", 0);
  }
  auto agents_cond = status::agents_ready(agents, generation);
  if (image_refusal) {
    agents_cond = condition("AgentsReady", false, "AgentImageNotAllowed", *image_refusal, generation);
    const auto conditions_before = status::conditions_from_json(current_status.value("conditions", json::array()));
    const auto* before = status::find_condition(conditions_before, "AgentsReady");
    if (!before || before->reason != agents_cond.reason || before->message != agents_cond.message) {
      events_.record(object, kube::EventType::Warning, agents_cond.reason, agents_cond.message);
    }
  } else if (!missing_agent.empty()) {
    agents_cond = condition("AgentsReady", false, "SecretNotFound",
                            secrets::describe(missing_agent) + "; the agent pods cannot start until it exists",
                            generation);
  } else if (workload_error) {
    agents_cond = condition("AgentsReady", false, "WorkloadApplyFailed",
                            fmt::format("applying the agent workload failed: {}", *workload_error), generation);
  }

  std::set<std::string> live_pods;
  for (const auto& pod : view_.agent_pods(id.namespace_name, workloads::selector_labels(id))) {
    live_pods.insert(pod.at("metadata").value("name", ""));
  }
  const auto all_entries = status::agent_entries_from_json(agents_of(object));
  std::vector<status::AgentEntry> live_entries;
  std::set<std::string> keep = live_pods;
  const auto now_unix = wall_now_unix();
  for (const auto& e : all_entries) {
    // A pod the cache has not seen yet may already report; keep its entry
    // while its heartbeat is fresh.
    const bool fresh = e.heartbeat_unix > 0 && now_unix - e.heartbeat_unix < config_.heartbeat_stale_after.count();
    if (live_pods.contains(e.pod) || fresh) {
      keep.insert(e.pod);
      live_entries.push_back(e);
    }
  }
  const auto breakers = status::breakers_closed(live_entries, now_unix, config_.heartbeat_stale_after, generation);

  status::Condition alerts_cond =
      !workloads::wants_alert_rules(spec)
          ? condition("AlertsReady", true, "AlertsDisabled", "spec.alerts asks for no rules", generation)
      : with_rules ? condition("AlertsReady", true, "AlertRulesInstalled",
                               fmt::format("PrometheusRule {} is installed", name), generation)
                   : condition("AlertsReady", false, "PrometheusOperatorNotInstalled",
                               "the monitoring.coreos.com/v1 PrometheusRule CRD is not installed; install the "
                               "Prometheus operator or set spec.alerts.defaults=false and no rules",
                               generation);

  status::Findings findings{generation,
                            condition("TopicsReady", memory.topics_condition.ready, memory.topics_condition.reason,
                                      memory.topics_condition.message, generation),
                            agents_cond,
                            breakers,
                            alerts_cond,
                            memory.topic_statuses,
                            status::summarize(memory.topics_summary, agents, live_entries),
                            memory.kafka_cluster_id};
  const auto desired_status = status::operator_status(findings, current_status, wall_now());
  if (status::needs_write(desired_status, current_status)) {
    throw_if_cancelled();
    api_.server_side_apply(kinds::event_pipelines(), id.namespace_name, id.name,
                           status_body(object, desired_status), kFieldManager, true, "status");
  }
  const auto prune = status::prune_agents_patch(agents_of(object), keep);
  if (!prune.empty()) {
    throw_if_cancelled();
    api_.json_patch(kinds::event_pipelines(), id.namespace_name, id.name, prune, {.field_manager = kFieldManager},
                    "status");
  }

  // When to come back: the next topic check, a stale heartbeat, or the resync.
  auto next = topics::next_check(memory.topic_check, config_.topic_checks);
  next = std::min(next, memory.workloads_checked + config_.resync_period);
  if (!live_entries.empty()) next = std::min(next, now + config_.heartbeat_stale_after);
  Result result;
  result.requeue_after = std::max(std::chrono::milliseconds(1),
                                  std::chrono::duration_cast<std::chrono::milliseconds>(next - clock_.now()));
  result.error = workload_error.has_value();
  return result;
}

Result Reconciler::finalize(const json& object, Memory& memory) {
  if (!topics::has_finalizer(object)) return {};
  const auto id = identity_of(object);
  const auto deletion_requested = object.at("metadata").value("deletionTimestamp", "");
  auto release = [&](kube::EventType type, const std::string& reason, const std::string& message) {
    events_.record(object, type, reason, message);
    throw_if_cancelled();
    api_.json_patch(kinds::event_pipelines(), id.namespace_name, id.name, topics::remove_finalizer_patch(object),
                    {.field_manager = kFieldManager});
    return Result{};
  };

  pipeline::PipelineSpec spec;
  try {
    spec = pipeline::parse_spec(object.value("spec", json::object()));
  } catch (const pipeline::SpecError& e) {
    return release(kube::EventType::Warning, "TopicsRetained",
                   fmt::format("the spec cannot be read ({}); no topic was deleted", join(e.problems())));
  }
  if (spec.paused) {
    return release(kube::EventType::Warning, "TopicsRetained",
                   "the pipeline was paused when it was deleted; no topic was deleted");
  }
  const auto desired = topics::desired_topics(spec);
  const auto created = status::created_topics(status_of(object));
  // At most the created topics can go; when there are none, there is no need
  // to ask the cluster anything.
  const auto at_most = topics::deletion_plan(desired, created, ref_of(object), {}).remove;
  if (at_most.empty()) {
    return release(kube::EventType::Normal, "TopicsRetained",
                   "this pipeline created none of its topics (adopted topics are never deleted)");
  }

  std::string failure;
  const auto& secret_data = load_secrets(id.namespace_name, workloads::referenced_secrets(spec), memory);
  std::vector<secrets::MissingSecret> missing_kafka;
  for (const auto& m : secrets::missing_secrets(spec, secret_data)) {
    if (m.kafka) missing_kafka.push_back(m);
  }
  if (!missing_kafka.empty()) {
    failure = secrets::describe(missing_kafka);
  } else {
    try {
      const auto settings = topics::connection_settings(spec.kafka, secret_data);
      auto admin = admins_.get(topics::connection_key(settings), settings);
      const auto timeout = std::chrono::milliseconds(spec.kafka.request_timeout_ms);
      throw_if_cancelled();
      // Ask the cluster who it is now rather than trusting the status: the
      // other pipelines' claims are matched against this id, and one whose id
      // is unknown keeps every topic it names.
      const topics::ClusterIdentity here{kafka::cluster_id(admin->get(), timeout), spec.kafka.bootstrap_servers};
      metrics_.admin_call("cluster_id", true);
      const auto plan = topics::deletion_plan(
          desired, created, ref_of(object),
          claims_of_others(view_.pipelines(), id.uid, here, topics::may_be_same_cluster));
      std::string kept;
      for (const auto& k : plan.retained) {
        spdlog::info("{}/{}: keeping topic {}: {}", id.namespace_name, id.name, k.topic, k.message);
        kept += " " + k.message;
      }
      if (plan.remove.empty()) {
        return release(kube::EventType::Normal, "TopicsRetained", "no topic of this pipeline was deleted:" + kept);
      }
      throw_if_cancelled();
      const auto outcomes = kafka::delete_topics(admin->get(), plan.remove, timeout);
      metrics_.admin_call("delete_topics", true);
      std::vector<std::string> failed;
      for (const auto& o : outcomes) {
        if (!o.ok()) failed.push_back(fmt::format("{}: {}", o.name, o.message.empty() ? rd_kafka_err2str(o.error) : o.message));
      }
      if (failed.empty()) {
        return release(kube::EventType::Normal, "TopicsDeleted",
                       fmt::format("deleted topics {} (topicDeletionPolicy: Delete).{}", join(plan.remove), kept));
      }
      failure = join(failed);
    } catch (const kafka::AdminError& e) {
      metrics_.admin_call("delete_topics", false);
      failure = fmt::format("Kafka unreachable: {}", e.what());
    }
  }
  if (topics::give_up_deletion(deletion_requested, wall_now_unix(), config_.topic_deletion_timeout)) {
    return release(kube::EventType::Warning, "TopicDeletionAbandoned",
                   fmt::format("could not delete topics {} within {}s ({}); the finalizer was removed so the "
                               "pipeline (and its namespace) can go; delete the topics by hand",
                               join(at_most), config_.topic_deletion_timeout.count(), failure));
  }
  events_.record(object, kube::EventType::Warning, "TopicDeletionFailed",
                 fmt::format("deleting topics failed, retrying: {}", failure));
  return {.requeue_after = {}, .error = true};
}

}  // namespace outflow::op::controller
