#pragma once

// Thin synchronous wrappers over librdkafka's Admin API and metadata calls.

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>
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
// Throws AdminError (a std::runtime_error) when the request itself fails
// (e.g. timeout), or with RD_KAFKA_RESP_ERR__INVALID_ARG when librdkafka
// refuses the arguments before sending (e.g. -2 partitions).
std::vector<TopicOutcome> create_topics(rd_kafka_t* client, const std::vector<NewTopic>& topics,
                                        std::chrono::milliseconds timeout);

struct TopicLayout {
  std::string name;
  int partitions = 0;
  int replication_factor = 0;  // replicas of partition 0
};

// Partition count and replication factor from cluster metadata; nullopt when
// the broker does not know the topic. Throws AdminError on failure.
std::optional<TopicLayout> describe_topic_layout(rd_kafka_t* client, const std::string& topic,
                                                 std::chrono::milliseconds timeout);

// The whole request failed: no broker answered in time, authentication failed,
// the cluster refused the request type. `code` tells which
// (RD_KAFKA_RESP_ERR__TIMED_OUT, __TRANSPORT, __ALL_BROKERS_DOWN,
// __AUTHENTICATION, ...); the operator maps these to KafkaUnreachable.
// Measured with librdkafka 2.0.2: a cluster that is down, or that rejects the
// client's SASL credentials or certificate, costs the whole timeout and gives
// __TRANSPORT (metadata-based calls: describe_*, cluster_id) or __TIMED_OUT
// (Admin requests); the actual reason (__AUTHENTICATION, __SSL, ...) reaches
// only the client's error callback.
class AdminError : public std::runtime_error {
 public:
  AdminError(rd_kafka_resp_err_t code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  rd_kafka_resp_err_t code() const { return code_; }

 private:
  rd_kafka_resp_err_t code_;
};

struct DescribedTopic {
  std::string name;
  int partitions = 0;
  int replication_factor = 0;  // replicas of partition 0
  // Only configs set on the topic itself (source DYNAMIC_TOPIC_CONFIG): what
  // AlterConfigs would replace, and what the spec is compared with.
  std::map<std::string, std::string> dynamic_config;
  // Effective values whatever their source (topic, broker or default): what
  // a producer must stay within. A record batch above max.message.bytes is
  // refused whole by the broker; a compacted topic refuses records without
  // a key.
  std::optional<std::int64_t> max_message_bytes{};
  bool compacted{false};
};

// Layout (one metadata request) and dynamic configs (one DescribeConfigs
// request) of the named topics. Topics the broker does not know are absent
// from the result. Throws AdminError when a request fails as a whole, and
// also when one topic exists but cannot be described (e.g.
// TOPIC_AUTHORIZATION_FAILED): an entry without its real config would make
// the caller overwrite settings it never saw. Both requests share `timeout`.
std::map<std::string, DescribedTopic> describe_topics(rd_kafka_t* client,
                                                      const std::vector<std::string>& names,
                                                      std::chrono::milliseconds timeout);

// One CreatePartitions request: grow each topic to `total` partitions.
std::vector<TopicOutcome> create_partitions(rd_kafka_t* client,
                                            const std::vector<std::pair<std::string, int>>& totals,
                                            std::chrono::milliseconds timeout);

// One AlterConfigs request. Not incremental: each topic's overrides become
// exactly the given map (anything else returns to the broker default).
std::vector<TopicOutcome> alter_topic_configs(
    rd_kafka_t* client, const std::vector<std::pair<std::string, std::map<std::string, std::string>>>& configs,
    std::chrono::milliseconds timeout);

// One DeleteTopics request. A topic that is already gone counts as deleted
// (ok(), so a retried deletion converges).
std::vector<TopicOutcome> delete_topics(rd_kafka_t* client, const std::vector<std::string>& names,
                                        std::chrono::milliseconds timeout);

// The Kafka cluster id from metadata (empty when the broker does not report
// one). Throws AdminError when no broker answers.
std::string cluster_id(rd_kafka_t* client, std::chrono::milliseconds timeout);

}  // namespace outflow::kafka
