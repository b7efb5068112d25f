#include "operator/controller/decide.h"

#include "common/time_format.h"
#include "operator/controller/topics_recall.h"
#include "operator/status/agent_liveness.h"
#include "operator/status/pipeline_status.h"
#include "operator/status/rollup.h"
#include "operator/topics/claims.h"
#include "operator/topics/connection.h"
#include "operator/topics/desired_topics.h"
#include "operator/topics/finalizer.h"
#include "operator/topics/status.h"
#include "operator/workloads/agent_config.h"
#include "operator/workloads/deployment.h"
#include "operator/workloads/image_policy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>
#include <tuple>

namespace outflow::op::controller {
namespace {

using nlohmann::json;

std::string join(const std::vector<std::string>& names) { return fmt::format("{}", fmt::join(names, ", ")); }

std::string wall_time(std::int64_t unix_seconds) {
  return format_rfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds)));
}

workloads::PipelineIdentity identity_of(const json& object) {
  const auto& m = object.at("metadata");
  return {m.at("namespace"), m.at("name"), m.at("uid")};
}

std::int64_t generation_of(const json& object) {
  return object.at("metadata").value("generation", std::int64_t{0});
}

json status_of(const json& object) { return object.value("status", json::object()); }

json agents_of(const json& object) { return status_of(object).value("agents", json::array()); }

status::Condition condition(const std::string& type, bool ok, const std::string& reason,
                            const std::string& message, std::int64_t generation) {
  return status::make_condition(type, ok, reason, message, generation);
}

// The body of a server-side apply of the operator's status fields.
json status_body(const json& object, json status) {
  return {{"apiVersion", "outflow.dev/v1alpha1"},
          {"kind", "EventPipeline"},
          {"metadata", {{"name", object.at("metadata").at("name")}, {"namespace", object.at("metadata").at("namespace")}}},
          {"status", std::move(status)}};
}

Halt invalid_spec(const json& object, const pipeline::SpecError& e, const std::string& now) {
  const auto generation = generation_of(object);
  const auto message = fmt::format("the spec cannot be used: {}", join(e.problems()));
  const auto bad = [&](const char* type) { return condition(type, false, "InvalidSpec", message, generation); };
  const status::Findings findings{generation,          bad("TopicsReady"), bad("AgentsReady"), bad("BreakersClosed"),
                                  bad("AlertsReady"), {},                 {"-", "-", "-"},    {}};
  const auto current = status_of(object);
  const auto desired = status::operator_status(findings, current, now);
  Halt halt;
  if (status::needs_write(desired, current)) {
    halt.apply_status = status_body(object, desired);
    halt.events.push_back({kube::EventType::Warning, "InvalidSpec", message});
  }
  return halt;
}

// Only the Ready condition and observedGeneration change: the rest of the
// status keeps describing the pipeline as it was when it was paused.
Halt paused(const json& object, const std::string& now) {
  const auto generation = generation_of(object);
  const auto current = status_of(object);
  auto conditions = status::conditions_from_json(current.value("conditions", json::array()));
  conditions = status::set_condition(
      std::move(conditions),
      condition("Ready", false, "Paused",
                "spec.paused is true: the operator changes no topic, workload or alert rule of this "
                "pipeline; set it to false to resume",
                generation),
      now);
  std::vector<status::Condition> ready_only;
  ready_only.push_back(*status::find_condition(conditions, "Ready"));
  const json desired = {{"observedGeneration", generation}, {"conditions", status::to_json(ready_only)}};
  Halt halt;
  if (status::needs_write(desired, current)) {
    halt.merge_patch = json{{"status", {{"observedGeneration", generation}, {"conditions", status::to_json(conditions)}}}};
  }
  return halt;
}

// spec.topics, spec.deadLetter and spec.kafka: what to do about the topics.
TopicStep topic_step(const Observed& observed, const pipeline::PipelineSpec& spec,
                     const std::vector<secrets::MissingSecret>& missing_for_kafka, const TopicsKnown& known,
                     const ReconcilerConfig& config) {
  const auto& object = observed.pipeline;
  const auto current_status = status_of(object);
  const auto generation = generation_of(object);
  TopicStep step;
  const auto desired = topics::desired_topics(spec);
  const auto last_known = known.statuses.empty() ? topic_statuses_from(current_status) : known.statuses;
  if (!missing_for_kafka.empty()) {
    step.action = TopicAction::Report;
    step.unchecked = unchecked_topics(
        desired, last_known, "SecretNotFound",
        secrets::describe(missing_for_kafka) + "; create it (or fix spec.kafka) and the operator continues",
        topics::CheckOutcome::Refused);
    return step;
  }
  step.settings = topics::connection_settings(spec.kafka, observed.secrets);
  step.connection = topics::connection_key(step.settings);
  if (!topics::check_due(known.check, generation, step.connection, observed.now, config.topic_checks)) return step;

  step.action = TopicAction::Check;
  step.input.desired = desired;
  step.input.managed = status::managed_topics(current_status);
  step.input.origins = status::topic_origins(current_status);
  for (const auto& s : known.statuses) {
    if (!s.managed) continue;
    step.input.managed.insert(s.name);
    if (s.origin != topics::TopicOrigin::Unknown) step.input.origins[s.name] = s.origin;
  }
  step.input.self = topics::pipeline_ref(object);
  step.last_known = last_known;
  step.timeout = std::chrono::milliseconds(spec.kafka.request_timeout_ms);
  return step;
}

// spec.agent, spec.outbox, spec.circuitBreaker, spec.deadLetter, spec.alerts
// and the Secrets' data: the agent's objects.
WorkloadStep workload_step(const Observed& observed, const pipeline::PipelineSpec& spec, const WorkloadsKnown& known,
                           const ReconcilerConfig& config) {
  const auto id = identity_of(observed.pipeline);
  WorkloadStep step;
  const auto rendered = workloads::render_agent_config(workloads::agent_config(id, spec));
  auto checksum_parts = secrets::checksum_parts(spec, observed.secrets);
  checksum_parts.insert(checksum_parts.begin(), rendered);
  step.checksum = workloads::checksum_of(checksum_parts);
  step.with_alert_rules = workloads::wants_alert_rules(spec) && observed.alert_rules_supported;
  step.objects = workloads::desired_objects(id, spec, config.defaults, rendered, step.checksum, step.with_alert_rules);
  step.full_check = known.generation != generation_of(observed.pipeline) || known.checksum != step.checksum ||
                    observed.now - known.checked >= config.resync_period;
  // An image the administrators did not allow changes nothing: whatever was
  // applied last keeps running (or nothing, for a new pipeline).
  step.refusal = workloads::refuse_agent_image(spec.agent.image, config.defaults);
  return step;
}

}  // namespace

Decision decide(const Observed& observed, const TopicsKnown& topics, const WorkloadsKnown& workloads,
                const ReconcilerConfig& config) {
  const auto& object = observed.pipeline;
  const auto now = wall_time(observed.now_unix);
  Proceed proceed;
  try {
    proceed.spec = pipeline::parse_spec(object.value("spec", json::object()));
  } catch (const pipeline::SpecError& e) {
    return invalid_spec(object, e, now);
  }
  const auto& spec = proceed.spec;
  if (spec.paused) return paused(object, now);

  // spec.topicDeletionPolicy: the finalizer exists only under Delete.
  const bool delete_policy = spec.topic_deletion_policy == pipeline::TopicDeletionPolicy::Delete;
  switch (topics::finalizer_change(delete_policy, topics::has_finalizer(object))) {
    case topics::FinalizerChange::Add:
      proceed.finalizer_patch = topics::add_finalizer_patch(object);
      break;
    case topics::FinalizerChange::Remove:
      proceed.finalizer_patch = topics::remove_finalizer_patch(object);
      break;
    case topics::FinalizerChange::None:
      break;
  }

  std::vector<secrets::MissingSecret> missing_for_kafka;
  for (const auto& m : secrets::missing_secrets(spec, observed.secrets)) {
    (m.kafka ? missing_for_kafka : proceed.missing_for_agents).push_back(m);
  }
  proceed.topics = topic_step(observed, spec, missing_for_kafka, topics, config);
  proceed.workloads = workload_step(observed, spec, workloads, config);
  return proceed;
}

TopicsKnown after_topics(const TopicsKnown& before, const TopicStep& step, const TopicSyncResult& result,
                         std::int64_t generation, Clock::time_point now) {
  TopicsKnown after = before;
  if (step.action != TopicAction::Keep) {
    after.statuses = result.statuses;
    after.condition = result.condition;
    after.summary = result.summary;
    // Without a connection, which cluster it is is not known.
    after.cluster_id = step.action == TopicAction::Check ? result.cluster_id : "";
    after.check = topics::record_check(before.check, generation, step.action == TopicAction::Check ? step.connection : "",
                                       result.outcome, now);
  }
  after.warned_reason = after.condition.ready ? "" : after.condition.reason;
  return after;
}

std::vector<Event> topic_events(const TopicsKnown& before, const TopicsKnown& after, const TopicStep& step,
                                const TopicSyncResult& result) {
  std::vector<Event> events;
  if (step.action == TopicAction::Check) {
    for (const auto& [names, reason, verb] :
         {std::tuple{&result.created, "TopicsCreated", "created"},
          std::tuple{&result.grown, "PartitionsIncreased", "added partitions to"},
          std::tuple{&result.reconfigured, "TopicConfigUpdated", "updated the config of"},
          std::tuple{&result.adopted, "TopicsAdopted", "adopted existing"}}) {
      if (!names->empty()) events.push_back({kube::EventType::Normal, reason, fmt::format("{} {}", verb, join(*names))});
    }
  }
  if (topics::worth_a_warning(after.condition) && after.condition.reason != before.warned_reason) {
    events.push_back({kube::EventType::Warning, after.condition.reason, after.condition.message});
  }
  return events;
}

WorkloadsKnown after_workloads(const WorkloadsKnown& before, const WorkloadStep& step, bool synced,
                               std::int64_t generation, Clock::time_point now) {
  // A refused image is looked at again at the resync, not at once.
  if (step.refusal) return {before.generation, before.checksum, now};
  if (synced && step.full_check) return {generation, step.checksum, now};
  return before;
}

Report conclude(const Observed& observed, const Proceed& proceed, const TopicsKnown& topics,
                const WorkloadsKnown& workloads, const std::optional<std::string>& workload_error,
                const ReconcilerConfig& config) {
  const auto& object = observed.pipeline;
  const auto id = identity_of(object);
  const auto generation = generation_of(object);
  const auto current_status = status_of(object);
  const auto& spec = proceed.spec;
  Report report;

  // Agents and breakers.
  status::AgentsObserved agents;
  agents.desired = spec.agent.replicas;
  if (observed.deployment) {
    agents.deployment_found = true;
    const auto st = observed.deployment->value("status", json::object());
    agents.ready = st.value("readyReplicas", 0);
    agents.updated = st.value("updatedReplicas", 0);
  }
  auto agents_cond = status::agents_ready(agents, generation);
  if (proceed.workloads.refusal) {
    agents_cond = condition("AgentsReady", false, "AgentImageNotAllowed", *proceed.workloads.refusal, generation);
    const auto conditions_before = status::conditions_from_json(current_status.value("conditions", json::array()));
    const auto* before = status::find_condition(conditions_before, "AgentsReady");
    if (!before || before->reason != agents_cond.reason || before->message != agents_cond.message) {
      report.events.push_back({kube::EventType::Warning, agents_cond.reason, agents_cond.message});
    }
  } else if (!proceed.missing_for_agents.empty()) {
    agents_cond = condition("AgentsReady", false, "SecretNotFound",
                            secrets::describe(proceed.missing_for_agents) +
                                "; the agent pods cannot start until it exists",
                            generation);
  } else if (workload_error) {
    agents_cond = condition("AgentsReady", false, "WorkloadApplyFailed",
                            fmt::format("applying the agent workload failed: {}", *workload_error), generation);
  }

  std::set<std::string> live_pods(observed.agent_pods.begin(), observed.agent_pods.end());
  for (const auto& pod : observed.labelled_pods) live_pods.insert(pod.name);
  std::vector<status::AgentEntry> live_entries;
  std::set<std::string> keep = live_pods;
  const auto entries = status::with_liveness(status::agent_entries_from_json(agents_of(object)),
                                             observed.labelled_pods, observed.now_unix);
  for (const auto& e : entries) {
    // A pod the cache has not seen yet (or an agent outside any labelled pod)
    // may already report; keep its entry while it was written recently.
    const bool fresh = e.heartbeat_unix > 0 &&
                       observed.now_unix - e.heartbeat_unix < config.heartbeat_stale_after.count();
    if (live_pods.contains(e.pod) || fresh) {
      keep.insert(e.pod);
      live_entries.push_back(e);
    }
  }
  const auto breakers =
      status::breakers_closed(live_entries, observed.now_unix, config.heartbeat_stale_after, generation);

  const auto alerts_cond =
      !workloads::wants_alert_rules(spec)
          ? condition("AlertsReady", true, "AlertsDisabled", "spec.alerts asks for no rules", generation)
      : proceed.workloads.with_alert_rules
          ? condition("AlertsReady", true, "AlertRulesInstalled",
                      fmt::format("PrometheusRule {} is installed", workloads::agent_name(id)), generation)
          : condition("AlertsReady", false, "PrometheusOperatorNotInstalled",
                      "the monitoring.coreos.com/v1 PrometheusRule CRD is not installed; install the "
                      "Prometheus operator or set spec.alerts.defaults=false and no rules",
                      generation);

  const status::Findings findings{
      generation,
      condition("TopicsReady", topics.condition.ready, topics.condition.reason, topics.condition.message, generation),
      agents_cond,
      breakers,
      alerts_cond,
      topics.statuses,
      status::summarize(topics.summary, agents, live_entries),
      topics.cluster_id};
  const auto desired_status = status::operator_status(findings, current_status, wall_time(observed.now_unix));
  if (status::needs_write(desired_status, current_status)) report.status = status_body(object, desired_status);
  report.prune_patch = status::prune_agents_patch(agents_of(object), keep);

  // When to come back: the next topic check, an entry turning stale, or the resync.
  auto next = topics::next_check(topics.check, config.topic_checks);
  next = std::min(next, workloads.checked + config.resync_period);
  if (const auto stale_in = status::next_turns_stale(live_entries, observed.now_unix, config.heartbeat_stale_after)) {
    next = std::min(next, observed.now + *stale_in);
  }
  report.next = next;
  return report;
}

KafkaAccess kafka_access(const pipeline::PipelineSpec& spec, const secrets::SecretData& now,
                         const secrets::SecretData& last_seen) {
  const auto missing_for_kafka = [&](const secrets::SecretData& data) {
    std::vector<secrets::MissingSecret> out;
    for (const auto& m : secrets::missing_secrets(spec, data)) {
      if (m.kafka) out.push_back(m);
    }
    return out;
  };
  KafkaAccess access;
  const auto missing = missing_for_kafka(now);
  if (missing.empty()) {
    access.settings = topics::connection_settings(spec.kafka, now);
    return access;
  }
  // Only whole Secrets come from memory: a Secret that exists but lacks a key
  // was changed on purpose, and its old contents are not the user's intent.
  auto merged = now;
  for (const auto& m : missing) {
    const auto seen = last_seen.find(m.secret);
    if (!m.key.empty() || merged.contains(m.secret) || seen == last_seen.end()) continue;
    merged.emplace(m.secret, seen->second);
    access.from_last_seen.push_back(m.secret);
  }
  const auto still = missing_for_kafka(merged);
  if (still.empty()) {
    access.settings = topics::connection_settings(spec.kafka, merged);
    return access;
  }
  access.from_last_seen.clear();
  access.problem = secrets::describe(still) +
                   "; the operator has no earlier copy of it (it keeps the last one it read only in memory, "
                   "and has not read it since it started or took over as leader)";
  return access;
}

Teardown decide_teardown(const Observed& observed, const ReconcilerConfig& config) {
  const auto& object = observed.pipeline;
  Teardown teardown;
  auto& facts = teardown.facts;
  facts.self = topics::pipeline_ref(object);
  facts.deletion_requested = object.at("metadata").value("deletionTimestamp", "");
  facts.now_unix = observed.now_unix;
  facts.give_up_after = config.topic_deletion_timeout;
  try {
    teardown.spec = pipeline::parse_spec(object.value("spec", json::object()));
  } catch (const pipeline::SpecError& e) {
    facts.spec_problems = e.problems();
    teardown.step = topics::next_teardown_step(facts);
    return teardown;
  }
  const auto& spec = *teardown.spec;
  facts.paused = spec.paused;
  facts.desired = topics::desired_topics(spec);
  facts.created = status::created_topics(status_of(object));
  facts.deployment = workloads::agent_name(identity_of(object));
  if (const auto& d = observed.deployment; d && !d->at("metadata").contains("deletionTimestamp")) {
    // A Deployment without spec.replicas runs one pod.
    facts.deployment_wants_pods = d->value("spec", json::object()).value("replicas", 1) > 0;
  }
  facts.agent_pods = observed.agent_pods;
  teardown.kafka = kafka_access(spec, observed.secrets, observed.secrets_last_seen);
  facts.no_credentials = teardown.kafka.problem;
  teardown.step = topics::next_teardown_step(facts);
  return teardown;
}

}  // namespace outflow::op::controller
