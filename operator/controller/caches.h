#pragma once

// The operator's informers and the ClusterView the reconciler reads through
// them: EventPipelines, the agent Deployments and ConfigMaps the operator
// created (by label), agent Pods (by label, metadata and readiness) and the
// metadata only of Secrets (a Secret's data never reaches the operator
// through a watch; the reconciler GETs the few a pipeline names). Each cache keeps only what the operator
// reads (object_trim.h). Every change is mapped to the key
// ("namespace/name") of the pipeline it concerns through a PipelineIndex, a
// lookup rather than a scan of every pipeline, and handed to the change
// callback; the controller queues it.
//
// One set of informers per watched namespace, or one set for all namespaces.

#include "common/kube/informer.h"
#include "common/kube/rest_client.h"
#include "operator/controller/cluster_view.h"
#include "operator/controller/pipeline_index.h"

#include "common/kube/workqueue.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace outflow::op::controller {

class Caches final : public ClusterView {
 public:
  // Normal: a person changed something (a spec, a Secret, a deletion) and
  // waits for the result. Low: routine news (status writes, the agents' pods
  // and objects): behind every change a person made.
  using OnChange = std::function<void(const std::string& pipeline_key, kube::Priority priority)>;

  // Borrows `rest`. `on_change` runs on informer threads and must be quick.
  Caches(kube::RestClient& rest, std::vector<std::string> namespaces, OnChange on_change);
  ~Caches() override;
  Caches(const Caches&) = delete;
  Caches& operator=(const Caches&) = delete;

  void start();
  void stop();
  bool wait_for_sync(std::chrono::milliseconds timeout) const;

  std::optional<nlohmann::json> pipeline(const std::string& ns, const std::string& name) const override;
  // "namespace/name" of every watched pipeline: the periodic resync's keys.
  std::vector<std::string> pipeline_keys() const;
  std::vector<topics::Claim> claims_on(const std::vector<std::string>& topics, const std::string& self_uid,
                                       const topics::ClusterIdentity& self_cluster,
                                       topics::ClusterMatch matches) const override;
  std::optional<nlohmann::json> owned(const kube::ResourceKind& kind, const std::string& ns,
                                      const std::string& name) const override;
  bool caches_owned(const kube::ResourceKind& kind) const override;
  std::vector<nlohmann::json> agent_pods(const std::string& ns,
                                         const nlohmann::json& selector_labels) const override;
  std::vector<nlohmann::json> labelled_pods(const std::string& ns, const std::string& pipeline_label) const override;
  std::optional<std::string> secret_version(const std::string& ns, const std::string& name) const override;

 private:
  struct Informers {
    using Member = std::unique_ptr<kube::Informer> Informers::*;
    std::unique_ptr<kube::Informer> pipelines, deployments, config_maps, pods, secrets;
    std::unique_ptr<kube::Informer> services, service_accounts, roles, role_bindings;
    // The informer of a kind the operator creates for each pipeline; null for
    // any other kind. The one list both owned() and caches_owned() read.
    static Member owned_member(const kube::ResourceKind& kind);
    const kube::Informer* owned(const kube::ResourceKind& kind) const;
    std::vector<kube::Informer*> all() const;
  };
  const Informers* informers_for(const std::string& ns) const;
  void changed_owned(const nlohmann::json& object);
  void changed_pod(kube::InformerEventType type, const nlohmann::json& pod);
  void changed_secret(const nlohmann::json& secret);
  void changed_pipeline(kube::InformerEventType type, const nlohmann::json& pipeline);

  OnChange on_change_;
  // Secret -> pipelines, agent pods -> pipeline, and each pipeline's
  // fingerprint digest: agents' heartbeats arrive every few seconds per pod
  // and are not news.
  PipelineIndex index_;
  // Topic -> the pipelines that list it, for the ownership rule of each check.
  topics::ClaimIndex claims_;
  std::map<std::string, Informers> informers_;
};

}  // namespace outflow::op::controller
