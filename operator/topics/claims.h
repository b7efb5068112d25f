#pragma once

// The other pipelines' claims that count against one pipeline, read from the
// EventPipeline objects the operator caches. Which clusters count as "the
// same" is the caller's question: same_cluster for conflicts between live
// pipelines, may_be_same_cluster before deleting (cluster_identity.h).

#include "operator/topics/cluster_identity.h"
#include "operator/topics/ownership.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace outflow::op::topics {

// An EventPipeline object as ownership sees it: "namespace/name", its
// creationTimestamp and uid.
PipelineRef pipeline_ref(const nlohmann::json& object);

using ClusterMatch = bool (*)(const ClusterIdentity&, const ClusterIdentity&);

// The claims of every pipeline in `pipelines` but `self_uid` whose cluster
// (status.kafkaClusterId and spec.kafka.bootstrapServers) `matches`
// `self_cluster`. A pipeline whose spec cannot be parsed claims nothing: it
// reports its own problem.
std::vector<Claim> claims_of_others(const std::vector<nlohmann::json>& pipelines, const std::string& self_uid,
                                    const ClusterIdentity& self_cluster, ClusterMatch matches);

}  // namespace outflow::op::topics
