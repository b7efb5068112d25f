#pragma once

// Thin synchronous wrappers over librdkafka's Admin API and metadata calls.

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace outflow::kafka {

struct NewTopic {
  std::string name;
  int partitions = 1;
  int replication_factor = 1;
  std::map<std::string, std::string> config;
};

struct TopicOutcome {
  std::string name;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::string message;  // the broker's explanation when error is set
  bool ok() const { return error == RD_KAFKA_RESP_ERR_NO_ERROR; }
};

// One CreateTopics request for the whole batch; one outcome per topic.
// Throws std::runtime_error when the request itself fails (e.g. timeout).
std::vector<TopicOutcome> create_topics(rd_kafka_t* client, const std::vector<NewTopic>& topics,
                                        std::chrono::milliseconds timeout);

struct TopicLayout {
  std::string name;
  int partitions = 0;
  int replication_factor = 0;  // replicas of partition 0
};

// Partition count and replication factor from cluster metadata; nullopt when
// the broker does not know the topic. Throws std::runtime_error on failure.
std::optional<TopicLayout> describe_topic_layout(rd_kafka_t* client, const std::string& topic,
                                                 std::chrono::milliseconds timeout);

}  // namespace outflow::kafka
