// What a pipeline may delete: only topics it created, and none that another
// pipeline on the same Kafka cluster uses, however that pipeline spells the
// cluster's address.

#include "operator_fixture.h"

#include <thread>

namespace outflow::operator_tests {
namespace {

namespace kinds = kube::kinds;

json topic(const std::string& name) { return {{"name", name}, {"partitions", 1}, {"replicationFactor", 1}}; }

const json* status_topic(const json& object, const std::string& name) {
  for (const auto& t : object["status"]["topics"]) {
    if (t["name"] == name) return &t;
  }
  return nullptr;
}

// The test broker under another name: 127.0.0.1:PORT becomes localhost:PORT.
std::string other_spelling(const std::string& bootstrap) {
  const auto colon = bootstrap.rfind(':');
  const auto host = bootstrap.substr(0, colon);
  EXPECT_TRUE(host == "127.0.0.1" || host == "localhost") << bootstrap;
  return (host == "localhost" ? "127.0.0.1" : "localhost") + bootstrap.substr(colon);
}

using OwnershipTest = OperatorTest;

TEST_F(OwnershipTest, TwoSpellingsOfOneClusterAreOneClusterForConflictsAndDeletion) {
  start_operator();
  const auto shared = unique_topic("spelled");
  const auto own = unique_topic("own");
  auto first = pipeline("first", json::array({topic(shared)}));
  apply(first);
  const auto ready = wait_for_condition("first", "Ready", "True");
  EXPECT_FALSE(ready["status"].value("kafkaClusterId", "").empty()) << "the cluster id is recorded";

  std::this_thread::sleep_for(1100ms);  // creation timestamps have one-second precision
  auto second = pipeline("second", json::array({topic(own), topic(shared)}));
  second["spec"]["kafka"]["bootstrapServers"] = {other_spelling(bootstrap_)};
  second["spec"]["topicDeletionPolicy"] = "Delete";
  apply(second);
  const auto loser = wait_for_condition("second", "TopicsReady", "False", "ResourceConflict");
  EXPECT_NE(condition(loser, "TopicsReady")->value("message", "").find("first"), std::string::npos);
  EXPECT_EQ(loser["status"].value("kafkaClusterId", ""), ready["status"].value("kafkaClusterId", "x"));
  EXPECT_TRUE(eventually([&] { return describe({own}).size() == 1; }, 20s));

  api_.remove(kinds::event_pipelines(), ns_, "second");
  EXPECT_TRUE(eventually([&] { return !api_.get_if_exists(kinds::event_pipelines(), ns_, "second"); }, 30s));
  EXPECT_TRUE(eventually([&] { return describe({own}).empty(); }, 20s)) << "its own topic goes";
  EXPECT_EQ(describe({shared}).size(), 1u) << "the topic pipeline first uses stays";
}

// A pipeline whose cluster never answered has no recorded id: it may be on
// this very cluster under an address the operator cannot reach, so a topic it
// names is kept.
TEST_F(OwnershipTest, ATopicNamedByAPipelineWhoseClusterIdIsUnknownIsKept) {
  start_operator();
  const auto shared = unique_topic("unsure");
  auto unknown = pipeline("unknown", json::array({topic(shared)}));
  unknown["spec"]["kafka"]["bootstrapServers"] = {"127.0.0.1:1"};  // nothing listens there
  apply(unknown);
  wait_for_condition("unknown", "TopicsReady", "False", "KafkaUnreachable");
  EXPECT_FALSE(get("unknown")["status"].contains("kafkaClusterId"));

  auto deleting = pipeline("deleting", json::array({topic(shared)}));
  deleting["spec"]["topicDeletionPolicy"] = "Delete";
  apply(deleting);
  const auto ready = wait_for_condition("deleting", "Ready", "True");
  ASSERT_NE(status_topic(ready, shared), nullptr);
  EXPECT_EQ((*status_topic(ready, shared)).value("origin", ""), "Created");
  EXPECT_TRUE(eventually([&] { return get("deleting")["metadata"].value("finalizers", json::array()).size() == 1; }, 10s));

  api_.remove(kinds::event_pipelines(), ns_, "deleting");
  EXPECT_TRUE(eventually([&] { return !api_.get_if_exists(kinds::event_pipelines(), ns_, "deleting"); }, 30s));
  EXPECT_EQ(describe({shared}).size(), 1u) << "pipeline unknown may use it: kept";
}

TEST_F(OwnershipTest, DeletePolicyDeletesWhatThePipelineCreatedButNotWhatItAdopted) {
  const auto existing = unique_topic("before");
  const auto created = kafka::create_topics(kafka_.get(), {{existing, 1, 1, {}}}, 10s);
  ASSERT_TRUE(created.at(0).ok()) << created.at(0).message;
  ASSERT_TRUE(eventually([&] { return describe({existing}).size() == 1; }, 10s));
  const auto fresh = unique_topic("fresh");

  start_operator();
  auto p = pipeline("both", json::array({topic(fresh), topic(existing)}));
  p["spec"]["topicDeletionPolicy"] = "Delete";
  apply(p);
  const auto ready = wait_for_condition("both", "Ready", "True");
  ASSERT_NE(status_topic(ready, existing), nullptr);
  ASSERT_NE(status_topic(ready, fresh), nullptr);
  EXPECT_EQ((*status_topic(ready, existing)).value("origin", ""), "Adopted");
  EXPECT_EQ((*status_topic(ready, fresh)).value("origin", ""), "Created");
  EXPECT_TRUE(eventually([&] { return get("both")["metadata"].value("finalizers", json::array()).size() == 1; }, 10s));

  api_.remove(kinds::event_pipelines(), ns_, "both");
  EXPECT_TRUE(eventually([&] { return !api_.get_if_exists(kinds::event_pipelines(), ns_, "both"); }, 30s));
  EXPECT_TRUE(eventually([&] { return describe({fresh}).empty(); }, 20s)) << "the topic it created is deleted";
  EXPECT_EQ(describe({existing}).size(), 1u) << "the topic that existed before survives";
}

}  // namespace
}  // namespace outflow::operator_tests
