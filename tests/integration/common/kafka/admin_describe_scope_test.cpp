// What a topic check costs the broker: describing a pipeline's topics must read
// the metadata of those topics only, whatever else the cluster holds (at a
// thousand pipelines the cluster holds thousands of topics, and a check that
// fetches all of them costs every check that much). And it must never create a
// topic on a broker that auto-creates (the test broker does).

#include "common/kafka/admin.h"
#include "common/kafka/client_config.h"
#include "child_process.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace outflow;
using namespace std::chrono_literals;

namespace {

kafka::ConnectionSettings plaintext() {
  kafka::ConnectionSettings s;
  s.bootstrap_servers = {testenv::require("OUTFLOW_TEST_KAFKA_PLAINTEXT")};
  return s;
}

kafka::ClientHandle admin_client() {
  return kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf(kafka::client_properties(plaintext())));
}

// librdkafka's metadata debug lines, as seen by a client: how many topics
// each Metadata response carried ("METADATA ... N brokers, M topics").
class MetadataResponses {
 public:
  void record(const char* line) {
    const std::string text = line;
    const auto at = text.find(" brokers, ");
    if (at == std::string::npos || text.find(" topics", at) == std::string::npos) return;
    std::lock_guard lock(mu_);
    topics_.push_back(std::atoi(text.c_str() + at + 10));
  }
  void clear() {
    std::lock_guard lock(mu_);
    topics_.clear();
  }
  std::vector<int> topics_per_response() {
    std::lock_guard lock(mu_);
    return topics_;
  }

 private:
  std::mutex mu_;
  std::vector<int> topics_;
};

void record_metadata_line(const rd_kafka_t* client, int /*level*/, const char* /*facility*/, const char* line) {
  static_cast<MetadataResponses*>(rd_kafka_opaque(client))->record(line);
}

kafka::ClientHandle watched_client(MetadataResponses& responses) {
  auto properties = kafka::client_properties(plaintext());
  properties.push_back({"debug", "metadata"});
  auto conf = kafka::make_conf(properties);
  rd_kafka_conf_set_opaque(conf.get(), &responses);
  rd_kafka_conf_set_log_cb(conf.get(), &record_metadata_line);
  return kafka::make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

void create(rd_kafka_t* client, const std::string& name, int partitions) {
  const auto outcomes = kafka::create_topics(client, {{name, partitions, 1, {}}}, 30s);
  ASSERT_EQ(outcomes.size(), 1u);
  ASSERT_TRUE(outcomes[0].ok()) << outcomes[0].message;
}

}  // namespace

TEST(KafkaAdminDescribeScope, ReadsTheMetadataOfTheAskedTopicsOnly) {
  auto setup = admin_client();
  // Other pipelines' topics: a check of ours must not pay for them.
  std::vector<std::string> bystanders;
  for (int i = 0; i < 5; ++i) {
    bystanders.push_back(testenv::unique_name("outflow.it.bystander"));
    create(setup.get(), bystanders.back(), 1);
  }
  const auto wanted = testenv::unique_name("outflow.it.scoped");
  create(setup.get(), wanted, 2);
  const auto missing = wanted + ".absent";

  MetadataResponses responses;
  auto client = watched_client(responses);
  ASSERT_TRUE(testenv::eventually([&] { return kafka::describe_topics(client.get(), {wanted}, 10s).contains(wanted); },
                                  15s, 200ms));
  // The client's own start-up metadata traffic has settled; count from here.
  std::this_thread::sleep_for(200ms);
  responses.clear();

  const auto described = kafka::describe_topics(client.get(), {wanted, missing}, 10s);
  ASSERT_TRUE(described.contains(wanted));
  EXPECT_EQ(described.at(wanted).partitions, 2);
  EXPECT_FALSE(described.contains(missing));
  const auto sizes = responses.topics_per_response();
  ASSERT_FALSE(sizes.empty()) << "no Metadata response seen: the partition count came from somewhere else?";
  EXPECT_LE(*std::max_element(sizes.begin(), sizes.end()), 2)
      << "a Metadata response carried more topics than the two asked about: the check read the whole cluster";

  // Asking who the cluster is, after a few checks, costs no topic list either.
  for (const auto& other : bystanders) (void)kafka::describe_topics(client.get(), {other}, 10s);
  responses.clear();
  (void)kafka::cluster_id(client.get(), 10s);
  const auto after = responses.topics_per_response();
  ASSERT_FALSE(after.empty());
  EXPECT_LE(*std::max_element(after.begin(), after.end()), 1)
      << "asking for the cluster id listed topics the client had described before";
}

TEST(KafkaAdminDescribeScope, DescribingAMissingTopicNeverCreatesIt) {
  auto client = admin_client();
  const auto missing = testenv::unique_name("outflow.it.never");
  EXPECT_TRUE(kafka::describe_topics(client.get(), {missing}, 10s).empty());
  EXPECT_TRUE(kafka::describe_topics(client.get(), {missing}, 10s).empty())
      << "the broker (auto.create.topics.enable=true) created " << missing << " when it was described";
  const auto layout = kafka::describe_topic_layout(client.get(), missing, 10s);
  EXPECT_FALSE(layout.has_value());
  EXPECT_TRUE(kafka::describe_topics(client.get(), {missing}, 10s).empty())
      << "describe_topic_layout created " << missing;
}
