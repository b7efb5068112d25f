// One reconcile's decisions, from what the caches showed to the calls to make
// and the status to report: halting on an invalid or paused spec, the
// finalizer, when Kafka is asked, what is applied, what the status says, and
// when to come back.

#include "operator/controller/decide.h"

#include <gtest/gtest.h>

#include <optional>
#include <variant>

using namespace outflow;
using namespace outflow::op::controller;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr std::int64_t kNowUnix = 1'780'000'000;  // 2026-05-28T20:26:40Z
const Clock::time_point kNow = Clock::time_point(24h);

json spec() {
  return {{"kafka", {{"bootstrapServers", {"kafka:9092"}}, {"requestTimeoutMs", 4000}}},
          {"topics", {{{"name", "orders"}, {"partitions", 3}, {"replicationFactor", 1}}}},
          {"outbox", {{"databaseSecretRef", {{"name", "orders-db"}, {"key", "url"}}}, {"defaultTopic", "orders"}}},
          {"agent", {{"replicas", 2}}},
          {"alerts", {{"defaults", false}}}};
}

json pipeline_object(json with_spec = spec()) {
  return {{"apiVersion", "outflow.dev/v1alpha1"},
          {"kind", "EventPipeline"},
          {"metadata",
           {{"namespace", "shop"},
            {"name", "orders"},
            {"uid", "uid-1"},
            {"generation", 4},
            {"resourceVersion", "77"},
            {"creationTimestamp", "2026-05-01T00:00:00Z"}}},
          {"spec", std::move(with_spec)}};
}

Observed observed(json object = pipeline_object()) {
  Observed o;
  o.pipeline = std::move(object);
  o.secrets = {{"orders-db", {{"url", "postgresql://outflow@db/orders"}}}};
  o.now = kNow;
  o.now_unix = kNowUnix;
  return o;
}

ReconcilerConfig config() {
  ReconcilerConfig c;
  c.defaults.agent_image = "outflow-agent:1";
  return c;
}

Proceed proceed(const Observed& o, const TopicsKnown& topics = {}, const WorkloadsKnown& workloads = {}) {
  auto d = decide(o, topics, workloads, config());
  EXPECT_TRUE(std::holds_alternative<Proceed>(d)) << "expected the reconcile to proceed";
  return std::holds_alternative<Proceed>(d) ? std::get<Proceed>(d) : Proceed{};
}

Halt halt(const Observed& o) {
  auto d = decide(o, {}, {}, config());
  EXPECT_TRUE(std::holds_alternative<Halt>(d)) << "expected the reconcile to halt";
  return std::holds_alternative<Halt>(d) ? std::get<Halt>(d) : Halt{};
}

std::optional<json> find_condition(const json& status, const std::string& type) {
  for (const auto& c : status.value("conditions", json::array())) {
    if (c.value("type", "") == type) return c;
  }
  return std::nullopt;
}

std::string stamp(std::int64_t unix_seconds) {
  const std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// What a successful check of the one topic returns.
TopicSyncResult checked_ready(const std::string& cluster_id = "id-1") {
  TopicSyncResult r;
  op::topics::TopicStatus s;
  s.name = "orders";
  s.partitions = 3;
  s.replication_factor = 1;
  s.state = op::topics::TopicState::Ready;
  s.managed = true;
  s.origin = op::topics::TopicOrigin::Created;
  r.statuses = {s};
  r.condition = {true, "AllTopicsReady", "all 1 topics are ready"};
  r.summary = "1/1";
  r.outcome = op::topics::CheckOutcome::Ready;
  r.cluster_id = cluster_id;
  return r;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

// --- halting ---------------------------------------------------------------

TEST(Decide, AnInvalidSpecIsReportedOnceWithAWarning) {
  auto broken = spec();
  broken.erase("outbox");
  auto o = observed(pipeline_object(broken));
  const auto first = halt(o);
  ASSERT_TRUE(first.apply_status);
  const auto& status = (*first.apply_status)["status"];
  for (const auto* type : {"TopicsReady", "AgentsReady", "BreakersClosed", "AlertsReady", "Ready"}) {
    ASSERT_TRUE(find_condition(status, type)) << type;
    EXPECT_EQ((*find_condition(status, type))["reason"], "InvalidSpec") << type;
  }
  ASSERT_EQ(first.events.size(), 1u);
  EXPECT_EQ(first.events[0].type, kube::EventType::Warning);
  EXPECT_TRUE(contains(first.events[0].message, "outbox")) << first.events[0].message;

  o.pipeline["status"] = status;
  const auto again = halt(o);
  EXPECT_FALSE(again.apply_status) << "the same problem is not written twice";
  EXPECT_TRUE(again.events.empty());
}

TEST(Decide, APausedPipelineGetsOnlyReadyPausedAndNothingElse) {
  auto paused = spec();
  paused["paused"] = true;
  auto o = observed(pipeline_object(paused));
  o.pipeline["status"] = {{"topics", json::array({{{"name", "orders"}, {"state", "Ready"}}})}};
  const auto h = halt(o);
  ASSERT_TRUE(h.merge_patch);
  const auto& status = (*h.merge_patch)["status"];
  EXPECT_EQ(status["observedGeneration"], 4);
  EXPECT_FALSE(status.contains("topics")) << "the rest of the status stays as it was";
  const auto ready = find_condition(status, "Ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ((*ready)["status"], "False");
  EXPECT_EQ((*ready)["reason"], "Paused");

  o.pipeline["status"].update(status);
  EXPECT_FALSE(halt(o).merge_patch) << "written once";
}

// --- finalizer ---------------------------------------------------------------

TEST(Decide, TheFinalizerFollowsTheDeletionPolicy) {
  auto deleting = spec();
  deleting["topicDeletionPolicy"] = "Delete";
  const auto add = proceed(observed(pipeline_object(deleting)));
  ASSERT_TRUE(add.finalizer_patch);
  EXPECT_TRUE(contains(add.finalizer_patch->dump(), "outflow.dev/topic-deletion"));

  auto with_finalizer = pipeline_object(deleting);
  with_finalizer["metadata"]["finalizers"] = {"outflow.dev/topic-deletion"};
  EXPECT_FALSE(proceed(observed(with_finalizer)).finalizer_patch) << "present: nothing to do";

  with_finalizer["spec"]["topicDeletionPolicy"] = "Retain";
  const auto remove = proceed(observed(with_finalizer));
  ASSERT_TRUE(remove.finalizer_patch);
  EXPECT_EQ((*remove.finalizer_patch)[1]["op"], "replace");
  EXPECT_EQ((*remove.finalizer_patch)[1]["value"], json::array());
}

// --- topics ------------------------------------------------------------------

TEST(Decide, TheFirstReconcileChecksTheTopicsCarryingWhatTheStatusSaysIsOurs) {
  auto o = observed();
  o.pipeline["status"] = {{"topics", {{{"name", "orders"}, {"managed", true}, {"origin", "Created"}, {"state", "Ready"}}}}};
  const auto p = proceed(o);
  ASSERT_EQ(p.topics.action, TopicAction::Check);
  EXPECT_EQ(p.topics.settings.bootstrap_servers, (std::vector<std::string>{"kafka:9092"}));
  EXPECT_FALSE(p.topics.connection.empty());
  EXPECT_EQ(p.topics.timeout, 4000ms);
  ASSERT_EQ(p.topics.input.desired.size(), 1u);
  EXPECT_EQ(p.topics.input.desired[0].name, "orders");
  EXPECT_EQ(p.topics.input.managed, (std::set<std::string>{"orders"}));
  EXPECT_EQ(p.topics.input.origins.at("orders"), op::topics::TopicOrigin::Created);
  EXPECT_EQ(p.topics.input.self.name, "shop/orders");
  ASSERT_EQ(p.topics.last_known.size(), 1u) << "the stored statuses stand in until this process checks";
}

TEST(Decide, KafkaIsAskedAgainOnlyWhenACheckIsDueOrTheSpecChanged) {
  const auto o = observed();
  const auto first = proceed(o);
  const auto known = after_topics({}, first.topics, checked_ready(), 4, kNow);
  EXPECT_EQ(known.cluster_id, "id-1");
  EXPECT_EQ(proceed(o, known).topics.action, TopicAction::Keep);

  auto later = o;
  later.now = kNow + config().topic_checks.resync;
  EXPECT_EQ(proceed(later, known).topics.action, TopicAction::Check) << "the resync";

  auto edited = o;
  edited.pipeline["metadata"]["generation"] = 5;
  EXPECT_EQ(proceed(edited, known).topics.action, TopicAction::Check) << "a new generation";
}

TEST(Decide, AMissingKafkaSecretReportsTheTopicsWithoutAskingKafka) {
  auto sasl = spec();
  sasl["kafka"]["sasl"] = {{"mechanism", "SCRAM-SHA-512"}, {"secretRef", {{"name", "kafka-user"}}}};
  const auto p = proceed(observed(pipeline_object(sasl)));
  ASSERT_EQ(p.topics.action, TopicAction::Report);
  EXPECT_EQ(p.topics.unchecked.condition.reason, "SecretNotFound");
  EXPECT_TRUE(contains(p.topics.unchecked.condition.message, "kafka-user")) << p.topics.unchecked.condition.message;
  EXPECT_TRUE(p.missing_for_agents.empty()) << "a Kafka Secret blocks the topics; AgentsReady does not repeat it";

  TopicsKnown before;
  before.cluster_id = "id-1";
  const auto after = after_topics(before, p.topics, p.topics.unchecked, 4, kNow);
  EXPECT_TRUE(after.cluster_id.empty()) << "no connection: which cluster it is is not known";
  ASSERT_TRUE(after.check);
  EXPECT_EQ(after.check->outcome, op::topics::CheckOutcome::Refused);
  EXPECT_EQ(after.condition.reason, "SecretNotFound");
}

TEST(Decide, ChangesOnTheBrokerAreAnnouncedAndANewProblemWarnedOnce) {
  const auto p = proceed(observed());
  auto created = checked_ready();
  created.created = {"orders"};
  const auto known = after_topics({}, p.topics, created, 4, kNow);
  EXPECT_EQ(topic_events({}, known, p.topics, created),
            (std::vector<Event>{{kube::EventType::Normal, "TopicsCreated", "created orders"}}));

  auto refused = checked_ready();
  refused.condition = {false, "PartitionDecreaseRefused", "topic orders has 3 partitions; the spec asks for 1"};
  const auto failing = after_topics(known, p.topics, refused, 4, kNow);
  EXPECT_EQ(topic_events(known, failing, p.topics, refused),
            (std::vector<Event>{{kube::EventType::Warning, "PartitionDecreaseRefused",
                                 "topic orders has 3 partitions; the spec asks for 1"}}));
  const auto still = after_topics(failing, p.topics, refused, 4, kNow);
  EXPECT_TRUE(topic_events(failing, still, p.topics, refused).empty()) << "the same problem is not warned again";
}

// --- workloads -----------------------------------------------------------------

TEST(Decide, AgentObjectsAreComparedInFullOnChangeAndAtTheResyncOnly) {
  const auto o = observed();
  const auto first = proceed(o);
  EXPECT_TRUE(first.workloads.full_check);
  EXPECT_FALSE(first.workloads.refusal);
  bool has_deployment = false;
  for (const auto& d : first.workloads.objects) has_deployment = has_deployment || d.kind.plural == "deployments";
  EXPECT_TRUE(has_deployment);

  const auto known = after_workloads({}, first.workloads, true, 4, kNow);
  EXPECT_FALSE(proceed(o, {}, known).workloads.full_check);

  auto changed_secret = o;
  changed_secret.secrets["orders-db"]["url"] = "postgresql://outflow@db2/orders";
  EXPECT_TRUE(proceed(changed_secret, {}, known).workloads.full_check) << "a new checksum";

  auto later = o;
  later.now = kNow + config().resync_period;
  EXPECT_TRUE(proceed(later, {}, known).workloads.full_check) << "the resync";

  EXPECT_EQ(after_workloads({}, first.workloads, false, 4, kNow).generation, -1)
      << "a failed apply is compared in full again next time";
}

TEST(Decide, AnImageNotAllowedAppliesNothingAndSaysWhyOnce) {
  auto foreign = spec();
  foreign["agent"]["image"] = "registry.example/other:1";
  auto o = observed(pipeline_object(foreign));
  const auto p = proceed(o);
  ASSERT_TRUE(p.workloads.refusal);
  const auto workloads = after_workloads({}, p.workloads, true, 4, kNow);
  EXPECT_EQ(workloads.checked, kNow) << "looked at again at the resync, not at once";

  const auto report = conclude(o, p, {}, workloads, std::nullopt, config());
  ASSERT_TRUE(report.status);
  const auto agents = find_condition((*report.status)["status"], "AgentsReady");
  ASSERT_TRUE(agents);
  EXPECT_EQ((*agents)["reason"], "AgentImageNotAllowed");
  ASSERT_EQ(report.events.size(), 1u);
  EXPECT_EQ(report.events[0].reason, "AgentImageNotAllowed");

  o.pipeline["status"] = (*report.status)["status"];
  EXPECT_TRUE(conclude(o, p, {}, workloads, std::nullopt, config()).events.empty()) << "said once";
}

TEST(Decide, ASecretOnlyTheAgentsNeedIsNamedInAgentsReadyAndTopicsGoAhead) {
  auto o = observed();
  o.secrets.clear();
  const auto p = proceed(o);
  EXPECT_EQ(p.topics.action, TopicAction::Check);
  ASSERT_EQ(p.missing_for_agents.size(), 1u);
  const auto report = conclude(o, p, {}, {}, std::nullopt, config());
  const auto agents = find_condition((*report.status)["status"], "AgentsReady");
  ASSERT_TRUE(agents);
  EXPECT_EQ((*agents)["reason"], "SecretNotFound");
  EXPECT_TRUE(contains((*agents)["message"].get<std::string>(), "orders-db"));
}

TEST(Decide, AFailedApplyIsReportedInAgentsReady) {
  const auto o = observed();
  const auto report = conclude(o, proceed(o), {}, {}, std::string("admission webhook said no"), config());
  const auto agents = find_condition((*report.status)["status"], "AgentsReady");
  ASSERT_TRUE(agents);
  EXPECT_EQ((*agents)["reason"], "WorkloadApplyFailed");
  EXPECT_TRUE(contains((*agents)["message"].get<std::string>(), "admission webhook said no"));
}

// --- status, pruning, requeue ----------------------------------------------------

TEST(Decide, TheStatusIsWrittenOnlyWhenItChanges) {
  auto o = observed();
  const auto p = proceed(o);
  const auto topics = after_topics({}, p.topics, checked_ready(), 4, kNow);
  const auto report = conclude(o, p, topics, {}, std::nullopt, config());
  ASSERT_TRUE(report.status);
  const auto& status = (*report.status)["status"];
  EXPECT_EQ(status["observedGeneration"], 4);
  EXPECT_EQ(status["kafkaClusterId"], "id-1");
  EXPECT_EQ((*find_condition(status, "TopicsReady"))["status"], "True");
  EXPECT_EQ((*find_condition(status, "AgentsReady"))["reason"], "DeploymentMissing");

  o.pipeline["status"] = status;
  EXPECT_FALSE(conclude(o, p, topics, {}, std::nullopt, config()).status) << "steady state writes nothing";
}

TEST(Decide, EntriesOfPodsThatAreGoneArePrunedWhileFreshOnesStay) {
  auto o = observed();
  o.agent_pods = {"orders-agent-live"};
  o.pipeline["status"]["agents"] = {
      {{"pod", "orders-agent-live"}, {"breaker", "Closed"}, {"heartbeatTime", stamp(kNowUnix - 600)}},
      {{"pod", "orders-agent-gone"}, {"breaker", "Open"}, {"heartbeatTime", stamp(kNowUnix - 600)}},
      {{"pod", "orders-agent-new"}, {"breaker", "Closed"}, {"heartbeatTime", stamp(kNowUnix - 5)}}};
  const auto report = conclude(o, proceed(o), {}, {}, std::nullopt, config());
  EXPECT_EQ(report.prune_patch,
            json::parse(R"([{"op": "test", "path": "/status/agents/1/pod", "value": "orders-agent-gone"},
                            {"op": "remove", "path": "/status/agents/1"}])"));
  const auto breakers = find_condition((*report.status)["status"], "BreakersClosed");
  ASSERT_TRUE(breakers);
  EXPECT_EQ((*breakers)["status"], "Unknown") << "the live pod's heartbeat is stale: it cannot vouch for its breaker";
}

TEST(Decide, AnIdleAgentIsAliveWhileItsPodIsReadyAndSilentOnceItIsNotForTheBound) {
  auto o = observed();
  o.agent_pods = {"orders-agent-a"};
  o.pipeline["status"]["agents"] = {
      {{"pod", "orders-agent-a"}, {"breaker", "Closed"}, {"heartbeatTime", stamp(kNowUnix - 3600)}},
      // A sidecar agent: its pod is not the operator's, but carries the label.
      {{"pod", "shop-7d9-x"}, {"breaker", "Closed"}, {"heartbeatTime", stamp(kNowUnix - 3600)}}};
  o.labelled_pods = {{"orders-agent-a", true, kNowUnix - 7200, 0}, {"shop-7d9-x", true, kNowUnix - 7200, 0}};
  auto report = conclude(o, proceed(o), {}, {}, std::nullopt, config());
  EXPECT_EQ((*find_condition((*report.status)["status"], "BreakersClosed"))["status"], "True");
  EXPECT_EQ(report.prune_patch, json::array()) << "both pods exist";

  o.labelled_pods[0] = {"orders-agent-a", false, kNowUnix - 61, 0};
  report = conclude(o, proceed(o), {}, {}, std::nullopt, config());
  const auto breakers = find_condition((*report.status)["status"], "BreakersClosed");
  EXPECT_EQ((*breakers)["status"], "Unknown");
  EXPECT_EQ((*breakers)["reason"], "AgentsSilent");
  EXPECT_NE((*breakers)["message"].get<std::string>().find("orders-agent-a"), std::string::npos);
  EXPECT_EQ((*breakers)["message"].get<std::string>().find("shop-7d9-x"), std::string::npos);
  EXPECT_EQ(report.prune_patch, json::array()) << "a pod that is not Ready is not gone: its entry stays";

  o.labelled_pods[1].name = "shop-7d9-y";  // the sidecar's pod was replaced
  report = conclude(o, proceed(o), {}, {}, std::nullopt, config());
  EXPECT_EQ(report.prune_patch, json::parse(R"([{"op": "test", "path": "/status/agents/1/pod", "value": "shop-7d9-x"},
                                                {"op": "remove", "path": "/status/agents/1"}])"));
}

TEST(Decide, ItComesBackAtTheNextTopicCheckTheResyncOrAStaleHeartbeat) {
  auto o = observed();
  const auto p = proceed(o);
  const auto topics = after_topics({}, p.topics, checked_ready(), 4, kNow);
  const WorkloadsKnown workloads{4, p.workloads.checksum, kNow - 9min};
  EXPECT_EQ(conclude(o, p, topics, workloads, std::nullopt, config()).next, kNow + 1min) << "the workload resync";

  o.agent_pods = {"orders-agent-a"};
  o.pipeline["status"]["agents"] = {
      {{"pod", "orders-agent-a"}, {"breaker", "Closed"}, {"heartbeatTime", stamp(kNowUnix - 20)}}};
  EXPECT_EQ(conclude(o, p, topics, workloads, std::nullopt, config()).next, kNow + 41s)
      << "the second after the entry turns stale (its pod is not in the labelled pods)";
  o.labelled_pods = {{"orders-agent-a", false, kNowUnix - 50, 0}};
  EXPECT_EQ(conclude(o, p, topics, workloads, std::nullopt, config()).next, kNow + 41s)
      << "not Ready for 50 s, but written 20 s ago";
  o.pipeline["status"]["agents"][0]["heartbeatTime"] = stamp(kNowUnix - 600);
  EXPECT_EQ(conclude(o, p, topics, workloads, std::nullopt, config()).next, kNow + 11s)
      << "the second after its pod has not been Ready for the bound";

  auto pending = checked_ready();
  pending.outcome = op::topics::CheckOutcome::Pending;
  const auto waiting = after_topics({}, p.topics, pending, 4, kNow);
  EXPECT_EQ(conclude(o, p, waiting, workloads, std::nullopt, config()).next, kNow + 500ms)
      << "a planned change not visible yet";
}
