#include "operator/topics/claims.h"

#include "operator/status/pipeline_status.h"

namespace outflow::op::topics {

PipelineRef pipeline_ref(const nlohmann::json& object) {
  const auto& m = object.at("metadata");
  return {m.value("namespace", "") + "/" + m.value("name", ""), m.value("creationTimestamp", ""),
          m.value("uid", "")};
}

Claimant claimant_of(const nlohmann::json& object, const pipeline::PipelineSpec& spec) {
  Claimant claimant{pipeline_ref(object),
                    {status::kafka_cluster_id(object.value("status", nlohmann::json::object())),
                     spec.kafka.bootstrap_servers},
                    {}};
  for (auto& claim : claims_of(claimant.ref, spec)) claimant.topics.push_back(std::move(claim.topic));
  return claimant;
}

void ClaimIndex::unlink(const std::string& key, const Claimant& claimant) {
  for (const auto& topic : claimant.topics) {
    const auto found = by_topic_.find(topic);
    if (found == by_topic_.end()) continue;
    found->second.erase(key);
    if (found->second.empty()) by_topic_.erase(found);
  }
}

void ClaimIndex::upsert(const std::string& key, std::optional<Claimant> claimant) {
  const std::lock_guard lock(mutex_);
  const auto old = claimants_.find(key);
  if (old != claimants_.end()) {
    unlink(key, old->second);
    claimants_.erase(old);
  }
  if (!claimant) return;
  for (const auto& topic : claimant->topics) by_topic_[topic].insert(key);
  claimants_.emplace(key, std::move(*claimant));
}

void ClaimIndex::remove(const std::string& key) { upsert(key, std::nullopt); }

std::vector<Claim> ClaimIndex::claims_on(const std::vector<std::string>& topics, const std::string& self_uid,
                                         const ClusterIdentity& self_cluster, ClusterMatch matches) const {
  const std::lock_guard lock(mutex_);
  std::vector<Claim> claims;
  for (const auto& topic : std::set<std::string>(topics.begin(), topics.end())) {
    const auto found = by_topic_.find(topic);
    if (found == by_topic_.end()) continue;
    for (const auto& key : found->second) {
      const auto& claimant = claimants_.at(key);
      if (claimant.ref.uid == self_uid || !matches(self_cluster, claimant.cluster)) continue;
      claims.push_back(Claim{topic, claimant.ref});
    }
  }
  return claims;
}

}  // namespace outflow::op::topics
