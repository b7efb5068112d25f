// What the EventPipeline CRD refuses and protects: every manifest in invalid/
// is rejected by the API server with the message its `# expect:` line names,
// spec.deadLetter.topic cannot change, and status is a subresource whose
// agents each own their entry.

#include "crd_fixture.h"

#include <gtest/gtest.h>

#include <thread>

using namespace outflow;
using namespace outflow::crd_tests;
using nlohmann::json;

// ---------------------------------------------------------------------------
// Invalid manifests in tests/integration/crds/invalid/: one mistake each,
// rejected by the API server with the message the file's `# expect:` names.

std::vector<std::string> invalid_manifests() {
  return yaml_files_in("tests/integration/crds/invalid");
}

TEST(CrdInvalidManifests, CoverEveryMistakeTheCrdMustCatch) {
  std::set<std::string> present;
  for (const auto& file : invalid_manifests()) present.insert(stem(file));
  for (const char* required : {
           "duplicate-topic-names", "partitions-zero", "replication-factor-zero",
           "topic-name-invalid", "sasl-without-secret-ref", "sasl-unknown-mechanism",
           "default-topic-not-declared", "dead-letter-topic-in-topics",
           "breaker-minimum-calls-over-window", "backoff-max-below-initial",
           "bootstrap-server-without-port", "outbox-table-not-identifier",
           "alert-for-not-duration", "topic-deletion-policy-unknown", "outbox-missing",
           "topic-name-kafka-internal", "dead-letter-topic-kafka-internal",
           "pipeline-name-not-dns-label", "outbox-columns-collide",
           "agent-resources-quantity-invalid", "agent-resources-request-over-limit",
           "topic-names-collide-in-metrics", "bootstrap-server-port-out-of-range"}) {
    EXPECT_TRUE(present.count(required)) << "missing tests/integration/crds/invalid/" << required
                                         << ".yaml";
  }
}

TEST(CrdInvalidManifests, EachNamesTheMessageItExpects) {
  const auto files = invalid_manifests();
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    const auto expect = expected_message(testenv::read_text(file));
    EXPECT_TRUE(expect && !expect->empty())
        << file << " needs a leading comment `# expect: <part of the API server's message>`";
    EXPECT_NO_THROW(testenv::read_manifest(file)) << file;
  }
}

class CrdInvalidManifest : public CrdTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(CrdInvalidManifest, IsRejectedWithTheExpectedMessage) {
  const auto& file = GetParam();
  SCOPED_TRACE(file);
  const auto expect = expected_message(testenv::read_text(file));
  ASSERT_TRUE(expect) << file << " has no `# expect:` line";

  const auto created = create(testenv::read_manifest(file));
  ASSERT_EQ(created.status, 422) << file << " was not rejected as invalid: " << created.text;
  EXPECT_EQ(created.body["reason"], "Invalid") << created.text;
  EXPECT_TRUE(MessageContains(created, *expect)) << "\n  in " << file;
}

INSTANTIATE_TEST_SUITE_P(Crd, CrdInvalidManifest, ::testing::ValuesIn(invalid_manifests()),
                         named_after_the_file);

// ---------------------------------------------------------------------------
// spec.deadLetter.topic is immutable; everything else may change.

class CrdImmutability : public CrdTest {
 protected:
  void SetUp() override {
    CrdTest::SetUp();
    if (HasFatalFailure()) return;
    const auto created = create_example("dead-letter-alerts.yaml");
    ASSERT_EQ(created.status, 201) << created.text;
  }
  static constexpr const char* kName = "shipping";
  static constexpr const char* kImmutable = "spec.deadLetter.topic is immutable";
};

TEST_F(CrdImmutability, DeadLetterTopicCannotChangeByMergePatch) {
  const auto patched =
      merge_patch(kName, {{"spec", {{"deadLetter", {{"topic", "shipping.dispatched.dead"}}}}}});
  ASSERT_EQ(patched.status, 422) << patched.text;
  EXPECT_TRUE(MessageContains(patched, kImmutable));

  const auto read = get(kName);
  EXPECT_EQ(read.body["spec"]["deadLetter"]["topic"], "shipping.dispatched.dlq");
  EXPECT_EQ(read.body["metadata"]["generation"], 1);
}

TEST_F(CrdImmutability, DeadLetterTopicCannotChangeByUpdate) {
  auto object = get(kName).body;
  object["spec"]["deadLetter"]["topic"] = "shipping.dispatched.dead";
  const auto updated = update(kName, object);
  ASSERT_EQ(updated.status, 422) << updated.text;
  EXPECT_TRUE(MessageContains(updated, kImmutable));
}

TEST_F(CrdImmutability, OtherFieldsCanChange) {
  // The rest of the dead-letter block, topics, agents: all by merge patch...
  const json patch = {
      {"spec",
       {{"deadLetter", {{"maxAttempts", 8}, {"partitions", 6}, {"backoff", {{"maxMs", 900000}}}}},
        {"topics", json::array({{{"name", "shipping.dispatched"}, {"partitions", 12}, {"replicationFactor", 3}}})},
        {"agent", {{"replicas", 4}}},
        {"paused", true}}}};
  const auto patched = merge_patch(kName, patch);
  ASSERT_EQ(patched.status, 200) << patched.text;
  EXPECT_EQ(patched.body["metadata"]["generation"], 2);
  EXPECT_EQ(patched.body["spec"]["deadLetter"]["maxAttempts"], 8);
  EXPECT_EQ(patched.body["spec"]["deadLetter"]["backoff"]["maxMs"], 900000);
  EXPECT_EQ(patched.body["spec"]["topics"][0]["partitions"], 12);
  EXPECT_EQ(patched.body["spec"]["agent"]["replicas"], 4);

  // ...and by a full update that keeps the topic as it is.
  auto object = patched.body;
  object["spec"]["topicDeletionPolicy"] = "Retain";
  object["spec"]["deadLetter"]["topic"] = "shipping.dispatched.dlq";
  const auto updated = update(kName, object);
  ASSERT_EQ(updated.status, 200) << updated.text;
  EXPECT_EQ(updated.body["metadata"]["generation"], 3);
  EXPECT_EQ(updated.body["spec"]["topicDeletionPolicy"], "Retain");
}

TEST_F(CrdImmutability, DeadLetterCanBeAddedToAPipelineWithoutOne) {
  ASSERT_EQ(create_example("minimal.yaml").status, 201);
  const auto patched =
      merge_patch("orders", {{"spec", {{"deadLetter", {{"topic", "shop.orders.dlq"}}}}}});
  ASSERT_EQ(patched.status, 200) << patched.text;
  EXPECT_EQ(patched.body["spec"]["deadLetter"]["topic"], "shop.orders.dlq");
}

// ---------------------------------------------------------------------------
// What Kafka cannot do to an existing topic is refused at apply time: fewer
// partitions, another replication factor. spec.topics is a map keyed by name,
// so the rule compares each topic with its own previous entry.

class CrdTopicTransitions : public CrdTest {
 protected:
  void SetUp() override {
    CrdTest::SetUp();
    if (HasFatalFailure()) return;
    const auto created = create_example("dead-letter-alerts.yaml");  // 6 partitions, RF 3
    ASSERT_EQ(created.status, 201) << created.text;
  }
  static json topics(int partitions, int replication_factor, const std::string& name = kTopic) {
    return json::array(
        {{{"name", name}, {"partitions", partitions}, {"replicationFactor", replication_factor}}});
  }
  kube::Response patch_topics(const json& list) {
    return merge_patch(kName, {{"spec", {{"topics", list}}}});
  }
  // What `kubectl apply --server-side` sends.
  kube::Response apply_topics(const json& list) {
    auto object = testenv::read_manifest(testenv::source_path("crds/examples/dead-letter-alerts.yaml"));
    object["spec"]["topics"] = list;
    return api().request(kube::Method::Patch,
                         pipeline_path(ns(), kName) + "?fieldManager=kubectl&force=true", &object,
                         "application/apply-patch+yaml");
  }
  static constexpr const char* kName = "shipping";
  static constexpr const char* kTopic = "shipping.dispatched";
};

TEST_F(CrdTopicTransitions, PartitionDecreaseIsRefusedWithWhatToDo) {
  const auto patched = patch_topics(topics(4, 3));
  ASSERT_EQ(patched.status, 422) << patched.text;
  EXPECT_TRUE(MessageContains(patched, "spec.topics[0].partitions"));
  EXPECT_TRUE(MessageContains(
      patched, "topic shipping.dispatched: partitions cannot decrease: Kafka cannot remove "
               "partitions. Keep the current number or more, or declare a new topic"));

  const auto applied = apply_topics(topics(1, 3));
  ASSERT_EQ(applied.status, 422) << applied.text;
  EXPECT_TRUE(MessageContains(applied, "topic shipping.dispatched: partitions cannot decrease"));
  EXPECT_EQ(get(kName).body["spec"]["topics"][0]["partitions"], 6);
}

TEST_F(CrdTopicTransitions, ReplicationFactorChangeIsRefusedWithWhatToDo) {
  for (const int rf : {1, 5}) {
    const auto patched = patch_topics(topics(6, rf));
    ASSERT_EQ(patched.status, 422) << patched.text;
    EXPECT_TRUE(MessageContains(patched, "spec.topics[0].replicationFactor"));
    EXPECT_TRUE(MessageContains(
        patched, "topic shipping.dispatched: replicationFactor cannot change: that needs a "
                 "partition reassignment, which Outflow does not do. Keep the current value"));
  }
  const auto applied = apply_topics(topics(6, 2));
  ASSERT_EQ(applied.status, 422) << applied.text;
  EXPECT_EQ(get(kName).body["spec"]["topics"][0]["replicationFactor"], 3);
}

TEST_F(CrdTopicTransitions, GrowingAddingAndReplacingTopicsPass) {
  auto patched = patch_topics(topics(12, 3));
  ASSERT_EQ(patched.status, 200) << patched.text;
  // A new topic has no previous entry: any layout is fine.
  auto list = topics(12, 3);
  list.push_back({{"name", "shipping.returned"}, {"partitions", 1}, {"replicationFactor", 1}});
  const auto applied = apply_topics(list);
  ASSERT_EQ(applied.status, 200) << applied.text;
  EXPECT_EQ(applied.body["spec"]["topics"].size(), 2u);
  // Replacing a topic by another name (with the default topic) is a new topic too.
  auto replaced = topics(2, 1, "shipping.dispatched.v2");
  const auto moved = merge_patch(
      kName, {{"spec", {{"topics", replaced}, {"outbox", {{"defaultTopic", "shipping.dispatched.v2"}}}}}});
  ASSERT_EQ(moved.status, 200) << moved.text;
}

TEST_F(CrdTopicTransitions, DeadLetterTopicsCannotShrinkOrChangeReplication) {
  auto patched = merge_patch(kName, {{"spec", {{"deadLetter", {{"partitions", 1}}}}}});
  ASSERT_EQ(patched.status, 422) << patched.text;
  EXPECT_TRUE(MessageContains(patched, "spec.deadLetter.partitions cannot decrease"));

  patched = merge_patch(kName, {{"spec", {{"deadLetter", {{"replicationFactor", 1}}}}}});
  ASSERT_EQ(patched.status, 422) << patched.text;
  EXPECT_TRUE(MessageContains(patched, "spec.deadLetter.replicationFactor cannot change"));

  patched = merge_patch(kName, {{"spec", {{"deadLetter", {{"partitions", 6}}}}}});
  ASSERT_EQ(patched.status, 200) << patched.text;
}

// ---------------------------------------------------------------------------
// The pipeline's name must name its children (DNS-1035), but not fit in 63
// characters: the operator shortens long child names with a hash.

class CrdPipelineName : public CrdTest {};

TEST_F(CrdPipelineName, LongDnsLabelNamesAreAccepted) {
  auto manifest = testenv::read_manifest(testenv::source_path("crds/examples/minimal.yaml"));
  const std::string name = "orders-" + std::string(90, 'x') + "-v2";
  manifest["metadata"]["name"] = name;
  const auto created = create(manifest);
  ASSERT_EQ(created.status, 201) << created.text;

  // Later writes are not checked again (names are immutable).
  const auto patched = merge_patch(name, {{"spec", {{"paused", true}}}});
  ASSERT_EQ(patched.status, 200) << patched.text;
}

// ---------------------------------------------------------------------------
// status is a subresource: written through /status only, validated, and
// status.agents is a map keyed by pod whose entries the agents own one each.

class CrdStatusSubresource : public CrdTest {
 protected:
  void SetUp() override {
    CrdTest::SetUp();
    if (HasFatalFailure()) return;
    const auto created = create_example("minimal.yaml");
    ASSERT_EQ(created.status, 201) << created.text;
  }

  static json agent(const std::string& pod, const std::string& breaker) {
    return {{"pod", pod},
            {"breaker", breaker},
            {"since", "2026-01-02T03:04:05Z"},
            {"outboxBacklog", 17},
            {"oldestPendingAgeSeconds", 4},
            {"publishedTotal", 12345},
            {"dlqPending", 0},
            {"parkedTotal", 0},
            {"heartbeatTime", "2026-01-02T03:05:00Z"}};
  }

  // What an agent's status reporter sends: a server-side apply of its own entry.
  kube::Response apply_agent_entry(const json& entry) {
    const json body = {{"apiVersion", kApiVersion},
                       {"kind", "EventPipeline"},
                       {"metadata", {{"name", kName}}},
                       {"status", {{"agents", json::array({entry})}}}};
    return api().request(kube::Method::Patch,
                         pipeline_path(ns(), kName, "status") +
                             "?fieldManager=outflow-agent%2F" + entry["pod"].get<std::string>(),
                         &body, "application/apply-patch+yaml");
  }

  static constexpr const char* kName = "orders";
};

TEST_F(CrdStatusSubresource, MergePatchOfStatusIsAccepted) {
  const json status = {{"status",
                        {{"agents", json::array({agent("orders-agent-0", "Closed")})},
                         {"summary", {{"topics", "1/1"}, {"agents", "1/2"}, {"breakers", "1 closed"}}}}}};
  const auto patched = merge_patch(kName, status, "status");
  ASSERT_EQ(patched.status, 200) << patched.text;
  EXPECT_EQ(patched.body["status"]["agents"], json::array({agent("orders-agent-0", "Closed")}));

  const auto read = get(kName);
  EXPECT_EQ(read.body["status"]["agents"][0]["pod"], "orders-agent-0");
  EXPECT_EQ(read.body["status"]["summary"]["agents"], "1/2");
  EXPECT_EQ(read.body["metadata"]["generation"], 1) << "a status write is not a spec change";
}

TEST_F(CrdStatusSubresource, StatusInAMainResourceWriteIsIgnored) {
  ASSERT_EQ(merge_patch(kName, {{"status", {{"agents", json::array({agent("orders-agent-0", "Closed")})}}}},
                        "status")
                .status,
            200);

  // A full update of the object with a different status...
  auto object = get(kName).body;
  object["status"]["agents"] = json::array({agent("intruder", "Open")});
  const auto updated = update(kName, object);
  ASSERT_EQ(updated.status, 200) << updated.text;
  EXPECT_EQ(updated.body["status"]["agents"], json::array({agent("orders-agent-0", "Closed")}));

  // ...or a merge patch of the main resource leaves status alone.
  const auto patched = merge_patch(kName, {{"status", {{"agents", json::array({agent("intruder", "Open")})}}}});
  ASSERT_EQ(patched.status, 200) << patched.text;
  EXPECT_EQ(patched.body["status"]["agents"], json::array({agent("orders-agent-0", "Closed")}));

  const auto read = get(kName);
  EXPECT_EQ(read.body["status"]["agents"], json::array({agent("orders-agent-0", "Closed")}));
  EXPECT_EQ(read.body["metadata"]["generation"], 1);

  // A create does not take a status either.
  auto manifest = testenv::read_manifest(testenv::source_path("crds/examples/minimal.yaml"));
  manifest["metadata"]["name"] = "with-status";
  manifest["status"] = {{"agents", json::array({agent("intruder", "Open")})}};
  const auto created = create(manifest);
  ASSERT_EQ(created.status, 201) << created.text;
  EXPECT_FALSE(created.body.contains("status") && created.body["status"].contains("agents"))
      << created.body.dump();
}

TEST_F(CrdStatusSubresource, StatusWriteCannotChangeSpec) {
  const auto patched = merge_patch(
      kName,
      {{"spec", {{"paused", true}}}, {"status", {{"agents", json::array({agent("orders-agent-0", "Closed")})}}}},
      "status");
  ASSERT_EQ(patched.status, 200) << patched.text;
  EXPECT_EQ(patched.body["spec"]["paused"], false);
  EXPECT_EQ(patched.body["status"]["agents"][0]["pod"], "orders-agent-0");
}

TEST_F(CrdStatusSubresource, StatusIsValidatedAgainstItsSchema) {
  const auto patched =
      merge_patch(kName, {{"status", {{"agents", json::array({agent("orders-agent-0", "Broken")})}}}}, "status");
  ASSERT_EQ(patched.status, 422) << patched.text;
  EXPECT_TRUE(MessageContains(patched, "status.agents[0].breaker: Unsupported value: \"Broken\""));
}

TEST_F(CrdStatusSubresource, EachAgentServerSideAppliesItsOwnEntry) {
  // No force: two agents' entries never conflict, because agents is a map keyed by pod.
  auto a = apply_agent_entry(agent("orders-agent-a", "Closed"));
  ASSERT_EQ(a.status, 200) << a.text;
  auto b = apply_agent_entry(agent("orders-agent-b", "Closed"));
  ASSERT_EQ(b.status, 200) << b.text;
  EXPECT_EQ(b.body["status"]["agents"].size(), 2u) << b.body["status"].dump();

  // Agent a's breaker opens: its apply changes its entry and leaves b's alone.
  a = apply_agent_entry(agent("orders-agent-a", "Open"));
  ASSERT_EQ(a.status, 200) << a.text;

  const auto read = get(kName);
  std::map<std::string, std::string> breakers;
  for (const auto& entry : read.body["status"]["agents"]) {
    breakers[entry["pod"].get<std::string>()] = entry["breaker"].get<std::string>();
  }
  EXPECT_EQ(breakers, (std::map<std::string, std::string>{{"orders-agent-a", "Open"},
                                                          {"orders-agent-b", "Closed"}}));

  std::set<std::string> managers;
  for (const auto& m : read.body["metadata"]["managedFields"]) {
    if (m.value("subresource", "") == "status") managers.insert(m["manager"].get<std::string>());
  }
  EXPECT_TRUE(managers.count("outflow-agent/orders-agent-a")) << read.body["metadata"].dump();
  EXPECT_TRUE(managers.count("outflow-agent/orders-agent-b")) << read.body["metadata"].dump();
}
