#pragma once

// The other pipelines' claims that count against one pipeline. Every cached
// EventPipeline is recorded once, as its informer event arrives, in a
// ClaimIndex (topic name -> the pipelines that list it), so a topic check asks
// about its own few topics instead of copying and parsing every pipeline
// (O(N) per check, O(N^2) per full pass). Which clusters count as "the same"
// is the caller's question: same_cluster for conflicts between live
// pipelines, may_be_same_cluster before deleting (cluster_identity.h).
//
// Thread-safe: informer threads write, reconcile workers read.

#include "common/pipeline/spec.h"
#include "operator/topics/cluster_identity.h"
#include "operator/topics/ownership.h"

#include <nlohmann/json.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace outflow::op::topics {

// An EventPipeline object as ownership sees it: "namespace/name", its
// creationTimestamp and uid.
PipelineRef pipeline_ref(const nlohmann::json& object);

// What one pipeline claims, and on which cluster (status.kafkaClusterId and
// spec.kafka.bootstrapServers).
struct Claimant {
  PipelineRef ref;
  ClusterIdentity cluster;
  std::vector<std::string> topics;
};

// `spec`: the object's spec, parsed. A pipeline whose spec cannot be parsed
// has no claimant (record nullopt): it claims nothing and reports its own problem.
Claimant claimant_of(const nlohmann::json& object, const pipeline::PipelineSpec& spec);

using ClusterMatch = bool (*)(const ClusterIdentity&, const ClusterIdentity&);

class ClaimIndex {
 public:
  // Records (or re-records) the pipeline cached under `key` ("namespace/name");
  // nullopt (an invalid spec) records it as claiming nothing.
  void upsert(const std::string& key, std::optional<Claimant> claimant);
  void remove(const std::string& key);

  // The claims on any of `topics` of every recorded pipeline but `self_uid`
  // whose cluster `matches` `self_cluster`. Costs the claimants of those
  // topics, not the number of pipelines.
  std::vector<Claim> claims_on(const std::vector<std::string>& topics, const std::string& self_uid,
                               const ClusterIdentity& self_cluster, ClusterMatch matches) const;

 private:
  void unlink(const std::string& key, const Claimant& claimant);

  mutable std::mutex mutex_;
  std::map<std::string, Claimant> claimants_;                // pipeline key -> what it claims
  std::map<std::string, std::set<std::string>> by_topic_;  // topic -> pipeline keys
};

}  // namespace outflow::op::topics
