#pragma once

// The part of an EventPipeline's status the operator owns (observedGeneration,
// conditions, topics, summary), assembled from the reconcile's findings and
// compared with what is stored, so an unchanged pipeline costs no write.
// status.agents belongs to the agent pods and never appears here.

#include "operator/status/conditions.h"
#include "operator/status/rollup.h"
#include "operator/topics/status.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace outflow::op::status {

struct Findings {
  std::int64_t generation = 0;
  Condition topics_ready{};
  Condition agents_ready{};
  Condition breakers_closed{};
  Condition alerts_ready{};
  std::vector<topics::TopicStatus> topics{};
  Summary summary{};
  // status.kafkaClusterId: the id the pipeline's cluster reported at the last
  // check; empty (field removed) when not known.
  std::string kafka_cluster_id{};
};

// The operator's status fields: the four conditions plus Ready (from
// status::ready), each keeping its lastTransitionTime from `current` while its
// status does not flip, in a fixed order.
nlohmann::json operator_status(const Findings& findings, const nlohmann::json& current_status,
                               const std::string& now);

// True when every field of `desired` (operator_status()) already has that
// value in `current_status`.
bool needs_write(const nlohmann::json& desired, const nlohmann::json& current_status);

nlohmann::json to_json(const std::vector<topics::TopicStatus>& topics);

// Names of topics marked managed in status.topics: what earlier reconciles
// created or adopted.
std::set<std::string> managed_topics(const nlohmann::json& current_status);

// Origins recorded for the managed topics in status.topics (absent: Unknown).
std::map<std::string, topics::TopicOrigin> topic_origins(const nlohmann::json& current_status);

// Names of managed topics with origin Created: what topicDeletionPolicy:
// Delete may delete.
std::set<std::string> created_topics(const nlohmann::json& current_status);

// The id recorded in status.kafkaClusterId, empty when there is none.
std::string kafka_cluster_id(const nlohmann::json& status);

}  // namespace outflow::op::status
