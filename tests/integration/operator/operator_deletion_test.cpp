// Deleting a topicDeletionPolicy: Delete pipeline: the agents stop before the
// topics go (a client still producing would recreate them on a broker that
// creates topics automatically, as the test broker does), and deleting the
// whole namespace, Secrets first, still deletes the topics.

#include "operator_fixture.h"

#include "common/kafka/client_config.h"
#include "testenv.h"

#include <atomic>
#include <iostream>
#include <thread>

namespace outflow::operator_tests {
namespace {

namespace kinds = kube::kinds;

json topic(const std::string& name) { return {{"name", name}, {"partitions", 1}, {"replicationFactor", 1}}; }

constexpr const char* kKubeletFinalizer = "outflow.test/kubelet";

// Plays kubelet and agent for one pipeline's pods, which the ReplicaSet
// controller creates (no scheduler or kubelet runs here). Like a real
// kubelet it holds each pod (with a finalizer of its own) until the agent in
// it has stopped, and while any pod of the pipeline is not being deleted the
// "agent" produces to `topic` with automatic topic creation on, as any
// client with librdkafka's producer defaults does.
class KubeletWithAgent {
 public:
  KubeletWithAgent(std::string ns, std::string pipeline, std::string bootstrap, std::string topic)
      : ns_(std::move(ns)),
        selector_("app.kubernetes.io/name=outflow-agent,app.kubernetes.io/instance=" + pipeline),
        bootstrap_(std::move(bootstrap)),
        topic_(std::move(topic)),
        thread_([this] { run(); }) {}
  ~KubeletWithAgent() {
    stop_ = true;
    thread_.join();
  }
  KubeletWithAgent(const KubeletWithAgent&) = delete;
  KubeletWithAgent& operator=(const KubeletWithAgent&) = delete;

  int delivered() const { return delivered_; }
  bool agent_running() const { return running_; }
  int pods() const { return pods_; }

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) ++static_cast<KubeletWithAgent*>(opaque)->delivered_;
  }

  void start_agent() {
    kafka::ConnectionSettings settings;
    settings.bootstrap_servers = {bootstrap_};
    auto properties = kafka::client_properties(settings);
    properties.push_back({"allow.auto.create.topics", "true"});
    properties.push_back({"linger.ms", "0"});
    properties.push_back({"message.timeout.ms", "3000"});
    auto conf = kafka::make_conf(properties);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &KubeletWithAgent::on_delivery);
    rd_kafka_conf_set_opaque(conf.get(), this);
    producer_ = kafka::make_client(RD_KAFKA_PRODUCER, std::move(conf));
    running_ = true;
  }

  void stop_agent() {
    if (!running_) return;
    rd_kafka_flush(producer_.get(), 3000);
    producer_ = {};
    running_ = false;
  }

  void run() {
    auto rest = testenv::admin_client();
    kube::ApiClient api(rest);
    while (!stop_) {
      try {
        kube::ListOptions options;
        options.label_selector = selector_;
        const json pods = api.list(kinds::pods(), ns_, options);
        pods_ = static_cast<int>(pods["items"].size());
        bool live = false;
        std::vector<std::string> leaving;
        for (const auto& pod : pods["items"]) {
          const auto& m = pod["metadata"];
          const std::string name = m["name"];
          if (m.contains("deletionTimestamp")) {
            leaving.push_back(name);
            continue;
          }
          live = true;
          const auto finalizers = m.value("finalizers", json::array());
          if (std::find(finalizers.begin(), finalizers.end(), kKubeletFinalizer) == finalizers.end()) {
            api.merge_patch(kinds::pods(), ns_, name, {{"metadata", {{"finalizers", {kKubeletFinalizer}}}}});
          }
        }
        if (live && !running_) start_agent();
        if (!live) stop_agent();  // before any pod is let go
        for (const auto& name : leaving) {
          api.merge_patch(kinds::pods(), ns_, name, {{"metadata", {{"finalizers", nullptr}}}});
        }
        if (running_) {
          static const std::string payload = "order";
          rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(topic_.c_str()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
          rd_kafka_poll(producer_.get(), 0);
        }
      } catch (const std::exception& e) {
        std::cerr << "kubelet: " << e.what() << "\n";  // the namespace may be going; try again
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    stop_agent();
  }

  const std::string ns_;
  const std::string selector_;
  const std::string bootstrap_;
  const std::string topic_;
  kafka::ClientHandle producer_;
  std::atomic<bool> running_{false};
  std::atomic<int> delivered_{0};
  std::atomic<int> pods_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: starts once everything above exists
};

bool has_event(kube::ApiClient& api, const std::string& ns, const std::string& reason) {
  const json events = api.list(kinds::events(), ns);
  for (const auto& e : events["items"]) {
    if (e.value("reason", "") == reason) return true;
  }
  return false;
}

using DeletionTest = OperatorTest;

TEST_F(DeletionTest, TheAgentsStopBeforeTheTopicsAreDeletedSoNothingRecreatesThem) {
  start_operator();
  const auto name = unique_topic("order");
  auto p = pipeline("order", json::array({topic(name)}));
  p["spec"]["topicDeletionPolicy"] = "Delete";
  p["spec"]["agent"]["replicas"] = 1;
  apply(p);
  wait_for_condition("order", "TopicsReady", "True");
  ASSERT_TRUE(eventually([&] { return get("order")["metadata"].value("finalizers", json::array()).size() == 1; }, 10s));

  KubeletWithAgent kubelet(ns_, "order", bootstrap_, name);
  ASSERT_TRUE(eventually([&] { return kubelet.delivered() >= 5; }, 30s))
      << "the agent pod runs and publishes (pods: " << kubelet.pods() << ")";

  api_.remove(kinds::event_pipelines(), ns_, "order");
  EXPECT_TRUE(eventually([&] { return !api_.get_if_exists(kinds::event_pipelines(), ns_, "order"); }, 90s))
      << "the finalizer completes";
  EXPECT_TRUE(eventually([&] { return !kubelet.agent_running() && kubelet.pods() == 0; }, 30s));
  EXPECT_TRUE(eventually([&] { return describe({name}).empty(); }, 10s))
      << "the topic is deleted and no agent recreated it";
  EXPECT_TRUE(eventually([&] { return has_event(api_, ns_, "StoppingAgents"); }, 5s))
      << "an Event says what the finalizer waited for";
}

// A namespace being deleted loses its Secrets before the pipeline's finalizer
// runs; the operator deletes the topics with the credentials it read before.
TEST_F(DeletionTest, DeletingTheNamespaceDeletesThePipelinesTopicsWithTheCredentialsLastRead) {
  start_operator({"--topic-deletion-timeout=30s"});
  create_secret("kafka-ca", {{"ca.crt", testenv::require_file("OUTFLOW_TEST_KAFKA_CA")}});
  create_secret("kafka-user", {{"username", testenv::require("OUTFLOW_TEST_KAFKA_SCRAM512_USER")},
                               {"password", testenv::require("OUTFLOW_TEST_KAFKA_SCRAM512_PASSWORD")}});
  const auto name = unique_topic("nsgone");
  auto p = pipeline("nsgone", json::array({topic(name)}));
  p["spec"]["kafka"]["bootstrapServers"] = {testenv::require("OUTFLOW_TEST_KAFKA_SASL_SSL")};
  p["spec"]["kafka"]["tls"] = {{"enabled", true}, {"caSecretRef", {{"name", "kafka-ca"}}}};
  p["spec"]["kafka"]["sasl"] = {{"mechanism", "SCRAM-SHA-512"}, {"secretRef", {{"name", "kafka-user"}}}};
  p["spec"]["topicDeletionPolicy"] = "Delete";
  apply(p);
  wait_for_condition("nsgone", "Ready", "True");
  ASSERT_EQ(describe({name}).size(), 1u);

  api_.remove(kinds::namespaces(), "", ns_);
  EXPECT_TRUE(eventually([&] { return !api_.get_if_exists(kinds::namespaces(), "", ns_); }, 90s))
      << "the namespace deletion completes";
  EXPECT_TRUE(eventually([&] { return describe({name}).empty(); }, 10s))
      << "the pipeline's topic is deleted, not left behind after the deletion timeout";
}

}  // namespace
}  // namespace outflow::operator_tests
