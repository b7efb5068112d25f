#pragma once

// What a reconcile reads from the informer caches: memory reads, no requests.
// An interface so the reconciler does not care how many informers (one per
// watched namespace, or one for all) stand behind it.

#include "common/kube/resource.h"
#include "operator/topics/claims.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace outflow::op::controller {

class ClusterView {
 public:
  virtual ~ClusterView() = default;

  virtual std::optional<nlohmann::json> pipeline(const std::string& ns, const std::string& name) const = 0;
  // The other watched pipelines' claims on `topics` (ClaimIndex::claims_on).
  virtual std::vector<topics::Claim> claims_on(const std::vector<std::string>& topics, const std::string& self_uid,
                                               const topics::ClusterIdentity& self_cluster,
                                               topics::ClusterMatch matches) const = 0;
  // An object the operator created (label app.kubernetes.io/managed-by=
  // outflow-operator), of the kinds it caches: Deployments, ConfigMaps,
  // ServiceAccounts, Roles, RoleBindings and Services. nullopt when absent,
  // or when `kind` is not one of them.
  virtual std::optional<nlohmann::json> owned(const kube::ResourceKind& kind, const std::string& ns,
                                              const std::string& name) const = 0;
  // Whether owned() answers for `kind`.
  virtual bool caches_owned(const kube::ResourceKind& kind) const = 0;
  // Agent pods of one pipeline (by its selector labels).
  virtual std::vector<nlohmann::json> agent_pods(const std::string& ns,
                                                 const nlohmann::json& selector_labels) const = 0;
  // Pods labelled outflow.dev/pipeline=`pipeline_label` (the pipeline's name
  // as a label value): its agent pods, and the pods of sidecar agents that
  // report into it. Metadata, deletion and the Ready condition only.
  virtual std::vector<nlohmann::json> labelled_pods(const std::string& ns, const std::string& pipeline_label) const = 0;
  // resourceVersion of a Secret, nullopt when it does not exist. Only
  // metadata is cached: the operator reads Secret data when it needs it.
  virtual std::optional<std::string> secret_version(const std::string& ns, const std::string& name) const = 0;
};

}  // namespace outflow::op::controller
