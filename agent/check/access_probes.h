#pragma once

// The Kafka probes behind `outflow-agent check`'s access lines: each asks
// the broker's authorizer through a request the principal itself may send,
// and none writes anything. librdkafka 2.0.2 can neither ask for a topic's
// authorized operations (Metadata's include_topic_authorized_operations
// came with librdkafka 2.3.0) nor list ACLs without DESCRIBE on the cluster,
// which an application's principal rarely has. So:
//   DESCRIBE          Metadata for the one topic: TOPIC_AUTHORIZATION_FAILED
//                     when denied (existing or not: Kafka hides which).
//   DESCRIBE_CONFIGS  DescribeConfigs of the topic, the agent's own request.
//   WRITE             a Produce request with acks=2 to partition 0. Kafka
//                     checks WRITE first (TOPIC_AUTHORIZATION_FAILED) and
//                     only then the acks, which it refuses for any value but
//                     -1, 0 and 1 (INVALID_REQUIRED_ACKS) before appending:
//                     nothing reaches the log either way.
//   READ              a Fetch from the end of partition 0 (no consumer
//                     group joined, nothing committed): TOPIC_AUTHORIZATION_
//                     FAILED, or an end-of-partition event when allowed.

#include "agent/check/access.h"
#include "common/kafka/client_config.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace outflow::agent::check {

// Kafka's name for the configured principal: User:<SASL username>, the
// subject of the TLS client certificate (RFC 2253, as Kafka's default
// principal builder spells it), or User:ANONYMOUS. Brokers with their own
// principal builder or mapping rules may call it otherwise.
std::string principal_of(const kafka::ConnectionSettings& settings);

struct TopicLookup {
  std::map<std::string, int> partitions;  // topics that exist: their partition count
  std::set<std::string> hidden;           // TOPIC_AUTHORIZATION_FAILED: no DESCRIBE
};
// One metadata request per topic (never creates one). Throws kafka::AdminError
// when a request fails as a whole.
TopicLookup look_up_topics(rd_kafka_t* client, const std::vector<std::string>& names,
                           std::chrono::milliseconds timeout);

std::map<std::string, Probed> probe_describe_configs(rd_kafka_t* client, const std::vector<std::string>& names,
                                                     std::chrono::milliseconds timeout);
std::map<std::string, Probed> probe_write(const kafka::ConnectionSettings& settings,
                                          const std::vector<std::string>& names, std::chrono::milliseconds timeout);
std::map<std::string, Probed> probe_read(const kafka::ConnectionSettings& settings,
                                         const std::vector<std::string>& names, std::chrono::milliseconds timeout);

}  // namespace outflow::agent::check
