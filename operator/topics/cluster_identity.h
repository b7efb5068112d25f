#pragma once

// Whether two pipelines talk to the same Kafka cluster. Bootstrap strings do
// not say: "kafka-0.kafka:9093" and "kafka.kafka.svc:9093" name one cluster,
// so the operator asks each cluster for its id and records it in the
// pipeline's status (status.kafkaClusterId). The id is unknown until the
// first successful check of the pipeline's cluster, and the two questions
// asked treat "unknown" differently, each erring towards the harmless answer.

#include <string>
#include <vector>

namespace outflow::op::topics {

struct ClusterIdentity {
  std::string cluster_id;  // empty: not known (yet)
  std::vector<std::string> bootstrap_servers;
};

// For ownership conflicts between live pipelines: equal ids when both are
// known; otherwise a shared bootstrap address. A pipeline whose cluster is
// unreachable (no id) must not block every pipeline elsewhere that happens to
// name the same topic, and a wrongly missed conflict here is visible and
// corrected once the id is known.
bool same_cluster(const ClusterIdentity& a, const ClusterIdentity& b);

// For deleting topics: different only when both ids are known and differ.
// A pipeline whose cluster id is unknown may be using the topic, so it keeps
// it: deleting destroys data and cannot be undone.
bool may_be_same_cluster(const ClusterIdentity& a, const ClusterIdentity& b);

}  // namespace outflow::op::topics
