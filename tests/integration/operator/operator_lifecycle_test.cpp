// A pipeline's life around its topics: the workload the operator deploys,
// Secrets that are missing or change, pausing, agents' status entries, and
// deletion under each topicDeletionPolicy.

#include "operator_fixture.h"

#include "common/kube/errors.h"
#include "operator/workloads/deployment.h"

#include <iostream>

namespace outflow::operator_tests {
namespace {

namespace kinds = kube::kinds;

json topic(const std::string& name) { return {{"name", name}, {"partitions", 1}, {"replicationFactor", 1}}; }

std::string checksum_of_deployment(kube::ApiClient& api, const std::string& ns, const std::string& name) {
  const auto d = api.get(kinds::deployments(), ns, name);
  return d["spec"]["template"]["metadata"]["annotations"].value(op::workloads::kChecksumAnnotation, "");
}

// Events are written after the status they explain; give them a moment.
std::vector<json> events_with_reason(kube::ApiClient& api, const std::string& ns, const std::string& reason) {
  std::vector<json> found;
  std::string seen;
  eventually(
      [&] {
        found.clear();
        seen.clear();
        // Named: a range-for over a temporary's ["items"] would dangle.
        const json events = api.list(kinds::events(), ns);
        for (const auto& e : events["items"]) {
          seen += e.value("reason", "") + " ";
          if (e.value("reason", "") == reason) found.push_back(e);
        }
        return !found.empty();
      },
      5s);
  if (found.empty()) std::cerr << "no Event with reason " << reason << "; events: " << seen << "\n";
  return found;
}

using LifecycleTest = OperatorTest;

TEST_F(LifecycleTest, DeploysTheAgentWorkloadOwnedByThePipeline) {
  start_operator();
  auto p = pipeline("shop", json::array({topic(unique_topic("shop"))}));
  p["spec"]["agent"]["replicas"] = 2;
  const auto created = apply(p);
  const auto uid = created["metadata"]["uid"].get<std::string>();

  // No kubelet runs here: the Deployment exists but its pods never get ready.
  const auto progressing = wait_for_condition("shop", "AgentsReady", "False", "AgentsProgressing");
  EXPECT_EQ(condition(progressing, "Ready")->value("status", ""), "False");
  for (const auto& kind : {kinds::service_accounts(), kinds::roles(), kinds::role_bindings(), kinds::config_maps(),
                           kinds::services(), kinds::deployments()}) {
    const auto object = api_.get(kind, ns_, "shop-agent");
    const auto owners = object["metadata"]["ownerReferences"];
    ASSERT_EQ(owners.size(), 1u) << kind.plural;
    EXPECT_EQ(owners[0]["uid"], uid) << kind.plural;
    EXPECT_EQ(owners[0]["controller"], true) << kind.plural;
  }
  const auto deployment = api_.get(kinds::deployments(), ns_, "shop-agent");
  EXPECT_EQ(deployment["spec"]["replicas"], 2);
  const auto& pod = deployment["spec"]["template"]["spec"];
  EXPECT_EQ(pod["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(pod["containers"][0]["image"], "outflow-agent:test");
}

// The Service exists for scraping each agent, not for load balancing: a
// headless one takes no address from the cluster's service range and gives
// kube-proxy on every node nothing to program, per pipeline.
TEST_F(LifecycleTest, TheAgentsMetricsServiceIsHeadless) {
  start_operator();
  apply(pipeline("scraped", json::array({topic(unique_topic("scraped"))})));
  wait_for_condition("scraped", "AgentsReady", "True", "ScaledToZero");
  const auto service = api_.get(kinds::services(), ns_, "scraped-agent");
  EXPECT_EQ(service["spec"].value("clusterIP", ""), "None");
}

// An older operator created the Service with a cluster address, which cannot
// be taken away (spec.clusterIP is immutable). The pipeline keeps working
// with that Service instead of failing every apply.
TEST_F(LifecycleTest, AServiceAnOlderOperatorGaveAnAddressKeepsItAndThePipelineStaysReady) {
  const auto created = apply(pipeline("older", json::array({topic(unique_topic("older"))})));
  const std::string uid = created["metadata"]["uid"];
  const json old_service = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata",
       {{"name", "older-agent"},
        {"namespace", ns_},
        {"labels",
         {{"app.kubernetes.io/name", "outflow-agent"},
          {"app.kubernetes.io/instance", "older"},
          {"app.kubernetes.io/managed-by", "outflow-operator"},
          {"app.kubernetes.io/part-of", "outflow"},
          {"outflow.dev/pipeline", "older"}}},
        {"ownerReferences",
         {{{"apiVersion", "outflow.dev/v1alpha1"},
           {"kind", "EventPipeline"},
           {"name", "older"},
           {"uid", uid},
           {"controller", true},
           {"blockOwnerDeletion", true}}}}}},
      {"spec",
       {{"selector", {{"app.kubernetes.io/name", "outflow-agent"}, {"app.kubernetes.io/instance", "older"}}},
        {"ports", {{{"name", "metrics"}, {"port", 9464}, {"targetPort", "metrics"}, {"protocol", "TCP"}}}}}}};  // an old port
  const auto before =
      api_.server_side_apply(kinds::services(), ns_, "older-agent", old_service, "outflow-operator", true);
  const std::string address = before["spec"].value("clusterIP", "");
  ASSERT_FALSE(address.empty());
  ASSERT_NE(address, "None");

  start_operator();
  const auto ready = wait_for_condition("older", "AgentsReady", "True", "ScaledToZero");
  EXPECT_EQ(condition(ready, "Ready")->value("status", ""), "True");
  const auto service = api_.get(kinds::services(), ns_, "older-agent");
  EXPECT_EQ(service["spec"].value("clusterIP", ""), address);
  EXPECT_EQ(service["spec"]["ports"][0].value("port", 0), 9090)
      << "the rest of the Service is still brought to what the pipeline says";
}

TEST_F(LifecycleTest, AChangedSecretRollsTheAgents) {
  start_operator();
  apply(pipeline("roll", json::array({topic(unique_topic("roll"))})));
  wait_for_condition("roll", "Ready", "True");
  const auto before = checksum_of_deployment(api_, ns_, "roll-agent");
  ASSERT_FALSE(before.empty());

  auto secret = api_.get(kinds::secrets(), ns_, "orders-db");
  secret["data"]["url"] = "cG9zdGdyZXNxbDovL290aGVy";  // a new database URL
  api_.replace(kinds::secrets(), ns_, secret);
  EXPECT_TRUE(eventually([&] { return checksum_of_deployment(api_, ns_, "roll-agent") != before; }, 20s))
      << "the pod template's checksum must change so the Deployment rolls the agents";
}

TEST_F(LifecycleTest, AMissingSecretIsNamedAndPickedUpOnceCreated) {
  start_operator();
  auto p = pipeline("creds", json::array({topic(unique_topic("creds"))}));
  p["spec"]["kafka"]["sasl"] = {{"mechanism", "SCRAM-SHA-512"}, {"secretRef", {{"name", "kafka-user"}}}};
  apply(p);
  const auto missing = wait_for_condition("creds", "TopicsReady", "False", "SecretNotFound");
  const auto message = condition(missing, "TopicsReady")->value("message", "");
  EXPECT_NE(message.find("kafka-user"), std::string::npos) << message;
  EXPECT_FALSE(events_with_reason(api_, ns_, "SecretNotFound").empty()) << "a Warning Event says so too";

  // The Secret appears, with the wrong user for this PLAINTEXT listener: the
  // operator moves on from SecretNotFound (and never shows the password).
  create_secret("kafka-user", {{"username", "someone"}, {"password", "s3cret-value-123"}});
  const auto later = wait_for_condition("creds", "TopicsReady", "False", "KafkaUnreachable", 60s);
  EXPECT_EQ(later.dump().find("s3cret-value-123"), std::string::npos);
  const json events = api_.list(kinds::events(), ns_);
  for (const auto& e : events["items"]) {
    EXPECT_EQ(e.dump().find("s3cret-value-123"), std::string::npos) << e.dump();
  }
}

TEST_F(LifecycleTest, PausedPipelinesAreNotTouched) {
  start_operator();
  const auto name = unique_topic("paused");
  auto p = pipeline("paused", json::array({topic(name)}));
  p["spec"]["paused"] = true;
  apply(p);
  wait_for_condition("paused", "Ready", "False", "Paused");
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(describe({name}).empty()) << "no topic is created while paused";
  EXPECT_FALSE(api_.get_if_exists(kinds::deployments(), ns_, "paused-agent")) << "no workload either";

  p["spec"]["paused"] = false;
  apply(p);
  wait_for_condition("paused", "Ready", "True");
  EXPECT_EQ(describe({name}).size(), 1u);
}

TEST_F(LifecycleTest, PrunesStatusEntriesOfAgentPodsThatAreGone) {
  start_operator();
  apply(pipeline("prune", json::array({topic(unique_topic("prune"))})));
  wait_for_condition("prune", "Ready", "True");
  // A live pod (no kubelet: it stays Pending, which is enough) with the
  // labels of the Deployment's pod template, and two entries.
  api_.create(kinds::pods(), ns_,
              {{"apiVersion", "v1"},
               {"kind", "Pod"},
               {"metadata",
                {{"name", "prune-agent-live"},
                 {"labels", {{"app.kubernetes.io/name", "outflow-agent"},
                             {"app.kubernetes.io/instance", "prune"},
                             {"outflow.dev/pipeline", "prune"}}}}},
               {"spec", {{"containers", {{{"name", "agent"}, {"image", "outflow-agent:test"}}}}}}});
  const auto now = std::chrono::system_clock::now();
  const auto stamp = [](std::chrono::system_clock::time_point t) {
    const auto s = std::chrono::system_clock::to_time_t(t);
    char text[32];
    std::tm tm{};
    gmtime_r(&s, &tm);
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(text);
  };
  for (const auto& [pod, when] : {std::pair{"prune-agent-live", now}, std::pair{"prune-agent-gone", now - 10min}}) {
    api_.server_side_apply(kinds::event_pipelines(), ns_, "prune",
                           {{"apiVersion", "outflow.dev/v1alpha1"},
                            {"kind", "EventPipeline"},
                            {"metadata", {{"name", "prune"}, {"namespace", ns_}}},
                            {"status", {{"agents", {{{"pod", pod}, {"breaker", "Closed"}, {"heartbeatTime", stamp(when)}}}}}}},
                           std::string("outflow-agent/") + pod, true, "status");
  }
  EXPECT_TRUE(eventually(
      [&] {
        const auto agents = get("prune")["status"].value("agents", json::array());
        return agents.size() == 1 && agents[0]["pod"] == "prune-agent-live";
      },
      20s))
      << get("prune")["status"].dump(2);
  EXPECT_EQ(condition(get("prune"), "BreakersClosed")->value("status", ""), "True");
}

TEST_F(LifecycleTest, DeletePolicyDeletesTheTopicsThenTheFinalizer) {
  start_operator();
  const auto name = unique_topic("gone");
  auto p = pipeline("gone", json::array({topic(name)}));
  p["spec"]["topicDeletionPolicy"] = "Delete";
  apply(p);
  wait_for_condition("gone", "Ready", "True");
  EXPECT_TRUE(eventually([&] { return get("gone")["metadata"].value("finalizers", json::array()).size() == 1; }, 10s));

  api_.remove(kinds::event_pipelines(), ns_, "gone");
  EXPECT_TRUE(eventually([&] { return !api_.get_if_exists(kinds::event_pipelines(), ns_, "gone"); }, 30s));
  EXPECT_TRUE(eventually([&] { return describe({name}).empty(); }, 20s)) << "the topic is deleted";
}

TEST_F(LifecycleTest, RetainPolicyAddsNoFinalizerAndKeepsTopics) {
  start_operator();
  const auto name = unique_topic("kept");
  apply(pipeline("kept", json::array({topic(name)})));
  wait_for_condition("kept", "Ready", "True");
  EXPECT_FALSE(get("kept")["metadata"].contains("finalizers"));
  api_.remove(kinds::event_pipelines(), ns_, "kept");
  EXPECT_TRUE(eventually([&] { return !api_.get_if_exists(kinds::event_pipelines(), ns_, "kept"); }, 10s));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(describe({name}).size(), 1u);
}

TEST_F(LifecycleTest, TopicDeletionGivesUpAfterItsTimeoutSoNothingStaysTerminating) {
  start_operator({"--topic-deletion-timeout=3s"});
  const auto name = unique_topic("stuck");
  auto p = pipeline("stuck", json::array({topic(name)}));
  p["spec"]["topicDeletionPolicy"] = "Delete";
  apply(p);
  wait_for_condition("stuck", "Ready", "True");
  // The cluster becomes unreachable for this pipeline (nothing listens on port 1).
  p["spec"]["kafka"]["bootstrapServers"] = {"127.0.0.1:1"};
  apply(p);
  wait_for_condition("stuck", "TopicsReady", "False", "KafkaUnreachable");

  api_.remove(kinds::event_pipelines(), ns_, "stuck");
  EXPECT_TRUE(eventually([&] { return !api_.get_if_exists(kinds::event_pipelines(), ns_, "stuck"); }, 60s))
      << "the finalizer must go after --topic-deletion-timeout";
  EXPECT_FALSE(events_with_reason(api_, ns_, "TopicDeletionAbandoned").empty());
  EXPECT_EQ(describe({name}).size(), 1u) << "the topic could not be deleted and was left";
}

TEST_F(LifecycleTest, InstallsAlertRulesWhenThePrometheusOperatorIsThere) {
  install_prometheus_rule_crd(api_);
  start_operator();
  auto p = pipeline("alerts", json::array({topic(unique_topic("alerts"))}));
  p["spec"]["alerts"] = {{"defaults", true},
                         {"labels", {{"release", "prometheus"}}},
                         {"rules", {{{"alert", "OrdersTooQuiet"}, {"expr", "rate(x[5m]) == 0"}, {"for", "10m"}}}}};
  apply(p);
  wait_for_condition("alerts", "AlertsReady", "True", "AlertRulesInstalled");
  const auto ready = wait_for_condition("alerts", "Ready", "True");
  const auto rule = api_.get(kinds::prometheus_rules(), ns_, "alerts-agent");
  EXPECT_EQ(rule["metadata"]["labels"]["release"], "prometheus");
  EXPECT_EQ(rule["metadata"]["ownerReferences"][0]["uid"], ready["metadata"]["uid"]);
  const auto text = rule["spec"].dump();
  EXPECT_NE(text.find("OrdersTooQuiet"), std::string::npos) << "the spec's own rule";
  EXPECT_NE(text.find("outflow_breaker_state"), std::string::npos) << "the default breaker-open rule";
}

}  // namespace
}  // namespace outflow::operator_tests
