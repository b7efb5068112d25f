#include "operator/topics/claims.h"

#include "common/pipeline/spec.h"
#include "operator/status/pipeline_status.h"

namespace outflow::op::topics {

PipelineRef pipeline_ref(const nlohmann::json& object) {
  const auto& m = object.at("metadata");
  return {m.value("namespace", "") + "/" + m.value("name", ""), m.value("creationTimestamp", ""),
          m.value("uid", "")};
}

std::vector<Claim> claims_of_others(const std::vector<nlohmann::json>& pipelines, const std::string& self_uid,
                                    const ClusterIdentity& self_cluster, ClusterMatch matches) {
  std::vector<Claim> claims;
  for (const auto& other : pipelines) {
    if (other.at("metadata").value("uid", "") == self_uid) continue;
    try {
      const auto spec = pipeline::parse_spec(other.value("spec", nlohmann::json::object()));
      const ClusterIdentity theirs{status::kafka_cluster_id(other.value("status", nlohmann::json::object())),
                                   spec.kafka.bootstrap_servers};
      if (!matches(self_cluster, theirs)) continue;
      auto listed = claims_of(pipeline_ref(other), spec);
      claims.insert(claims.end(), listed.begin(), listed.end());
    } catch (const pipeline::SpecError&) {
      // An invalid pipeline claims nothing; it reports its own problem.
    }
  }
  return claims;
}

}  // namespace outflow::op::topics
