#include "operator/controller/caches.h"

#include "common/kube/object_trim.h"
#include "common/kube/resource.h"
#include "common/pipeline/spec.h"
#include "operator/controller/pipeline_change.h"
#include "operator/workloads/agent_config.h"
#include "operator/workloads/deployment.h"
#include "operator/workloads/identity.h"

#include <algorithm>
#include <string>
#include <vector>

namespace outflow::op::controller {
namespace {

namespace kinds = kube::kinds;
using nlohmann::json;

constexpr const char* kManagedSelector = "app.kubernetes.io/managed-by=outflow-operator";
// Every pod carrying the label, with any value: the operator's agent pods (it
// puts the label on them) and the pods of sidecar agents that report into a
// pipeline (their owners label them, README "As a sidecar").
constexpr const char* kPipelineLabel = "outflow.dev/pipeline";

std::string key_of(const json& object) {
  const auto& m = object.at("metadata");
  return m.value("namespace", "") + "/" + m.value("name", "");
}

constexpr const char* kInstanceLabel = "app.kubernetes.io/instance";

std::string label(const json& object, const char* key) {
  const auto labels = object.at("metadata").value("labels", json::object());
  const auto found = labels.find(key);
  return found != labels.end() && found->is_string() ? found->get<std::string>() : std::string();
}

std::string instance_label(const json& object) { return label(object, kInstanceLabel); }

bool labels_match(const json& object, const json& selector) {
  const auto labels = object.at("metadata").value("labels", json::object());
  for (const auto& [k, v] : selector.items()) {
    if (!labels.contains(k) || labels.at(k) != v) return false;
  }
  return true;
}

std::vector<std::string> secrets_named_by(const std::optional<pipeline::PipelineSpec>& spec) {
  // An invalid spec references nothing usable; its own reconcile reports it.
  return spec ? workloads::referenced_secrets(*spec) : std::vector<std::string>{};
}

std::optional<pipeline::PipelineSpec> spec_of(const json& pipeline) {
  try {
    return pipeline::parse_spec(pipeline.value("spec", json::object()));
  } catch (const pipeline::SpecError&) {
    return std::nullopt;
  }
}

}  // namespace

std::vector<kube::Informer*> Caches::Informers::all() const {
  // Pipelines last: by the time a pipeline is reconciled, what it refers to is cached.
  return {secrets.get(),  deployments.get(),      config_maps.get(), pods.get(), services.get(),
          service_accounts.get(), roles.get(), role_bindings.get(), pipelines.get()};
}

Caches::Informers::Member Caches::Informers::owned_member(const kube::ResourceKind& kind) {
  if (kind == kinds::deployments()) return &Informers::deployments;
  if (kind == kinds::config_maps()) return &Informers::config_maps;
  if (kind == kinds::services()) return &Informers::services;
  if (kind == kinds::service_accounts()) return &Informers::service_accounts;
  if (kind == kinds::roles()) return &Informers::roles;
  if (kind == kinds::role_bindings()) return &Informers::role_bindings;
  return nullptr;
}

const kube::Informer* Caches::Informers::owned(const kube::ResourceKind& kind) const {
  const auto member = owned_member(kind);
  return member ? (this->*member).get() : nullptr;
}

Caches::Caches(kube::RestClient& rest, std::vector<std::string> namespaces, OnChange on_change)
    : on_change_(std::move(on_change)) {
  if (namespaces.empty()) namespaces.push_back("");
  for (const auto& ns : namespaces) {
    Informers set;
    auto make = [&](kube::ResourceKind kind, std::string selector, bool metadata_only,
                    std::function<json(json)> transform) {
      kube::InformerOptions options;
      options.namespace_name = ns;
      options.label_selector = std::move(selector);
      options.metadata_only = metadata_only;
      options.transform = std::move(transform);
      return std::make_unique<kube::Informer>(rest, std::move(kind), std::move(options));
    };
    // Pipelines and every object the operator creates are compared with what
    // it wants, so they stay whole but for the server's bookkeeping: a
    // resync or a restart repairs drift from the cache, without a GET per
    // object and pipeline. Of Secrets only existence, version and labels are
    // read; of pods also their deletion and Ready condition (the agents'
    // liveness).
    auto owned = [&](kube::ResourceKind kind) { return make(std::move(kind), kManagedSelector, false, kube::without_bookkeeping); };
    set.pipelines = make(kinds::event_pipelines(), "", false, kube::without_bookkeeping);
    set.deployments = owned(kinds::deployments());
    set.config_maps = owned(kinds::config_maps());
    set.services = owned(kinds::services());
    set.service_accounts = owned(kinds::service_accounts());
    set.roles = owned(kinds::roles());
    set.role_bindings = owned(kinds::role_bindings());
    set.pods = make(kinds::pods(), kPipelineLabel, false, kube::identity_and_readiness);
    set.secrets = make(kinds::secrets(), "", true, kube::identity_only);

    set.pipelines->add_handler([this](kube::InformerEventType type, const json& o) { changed_pipeline(type, o); });
    for (auto* informer : {set.deployments.get(), set.config_maps.get(), set.services.get(),
                           set.service_accounts.get(), set.roles.get(), set.role_bindings.get()}) {
      informer->add_handler([this](kube::InformerEventType, const json& o) { changed_owned(o); });
    }
    set.pods->add_handler([this](kube::InformerEventType type, const json& o) { changed_pod(type, o); });
    set.secrets->add_handler([this](kube::InformerEventType, const json& o) { changed_secret(o); });
    informers_.emplace(ns, std::move(set));
  }
}

Caches::~Caches() { stop(); }

void Caches::start() {
  for (auto& [ns, set] : informers_) {
    for (auto* informer : set.all()) informer->start();
  }
}

void Caches::stop() {
  for (auto& [ns, set] : informers_) {
    for (auto* informer : set.all()) informer->stop();
  }
}

bool Caches::wait_for_sync(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& [ns, set] : informers_) {
    for (const auto* informer : set.all()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (!informer->wait_for_sync(std::max(left, std::chrono::milliseconds(0)))) return false;
    }
  }
  return true;
}

void Caches::changed_owned(const json& object) {
  const auto& m = object.at("metadata");
  const auto ns = m.value("namespace", "");
  // Deployments and ConfigMaps name their pipeline as controller owner.
  for (const auto& ref : m.value("ownerReferences", json::array())) {
    if (ref.value("kind", "") == "EventPipeline") {
      on_change_(ns + "/" + ref.value("name", ""), kube::Priority::Low);
      return;
    }
  }
  for (const auto& key : index_.pipelines_with_instance(ns, instance_label(object))) {
    on_change_(key, kube::Priority::Low);
  }
}

void Caches::changed_pod(kube::InformerEventType type, const json& pod) {
  // Pods are owned by a ReplicaSet (or by an application, for sidecar
  // agents); they carry their pipeline's name as label outflow.dev/pipeline,
  // the same value as the operator's pods' instance label.
  const auto& m = pod.at("metadata");
  const auto ns = m.value("namespace", "");
  const auto instance = label(pod, kPipelineLabel);
  if (type == kube::InformerEventType::Deleted) {
    index_.remove_pod(ns, m.value("name", ""));
  } else {
    index_.upsert_pod(ns, m.value("name", ""), instance);
  }
  for (const auto& key : index_.pipelines_with_instance(ns, instance)) on_change_(key, kube::Priority::Low);
}

void Caches::changed_secret(const json& secret) {
  const auto& m = secret.at("metadata");
  for (const auto& key : index_.pipelines_using_secret(m.value("namespace", ""), m.value("name", ""))) {
    on_change_(key, kube::Priority::Normal);
  }
}

void Caches::changed_pipeline(kube::InformerEventType type, const json& pipeline) {
  const auto key = key_of(pipeline);
  if (type == kube::InformerEventType::Deleted) {
    index_.remove_pipeline(key);
    claims_.remove(key);
    on_change_(key, kube::Priority::Normal);
    return;
  }
  // Re-recorded on every event: status.kafkaClusterId, which says whose
  // cluster the claims are on, arrives with a status write.
  const auto spec = spec_of(pipeline);
  claims_.upsert(key, spec ? std::optional(topics::claimant_of(pipeline, *spec)) : std::nullopt);
  const auto& m = pipeline.at("metadata");
  const workloads::PipelineIdentity id{m.value("namespace", ""), m.value("name", ""), m.value("uid", "")};
  const auto intent = std::to_string(m.value("generation", std::int64_t{0})) + (m.contains("deletionTimestamp") ? "/deleting" : "");
  const PipelineIndex::Pipeline entry{key, workloads::checksum_of({reconcile_fingerprint(pipeline)}),
                                      secrets_named_by(spec),
                                      workloads::selector_labels(id).value(kInstanceLabel, ""), intent};
  switch (index_.upsert_pipeline(entry)) {
    case PipelineIndex::News::None:
      return;  // a heartbeat, nothing to reconcile
    case PipelineIndex::News::Routine:
      on_change_(key, kube::Priority::Low);
      return;
    case PipelineIndex::News::Intent:
      on_change_(key, kube::Priority::Normal);
      return;
  }
}

const Caches::Informers* Caches::informers_for(const std::string& ns) const {
  auto found = informers_.find(ns);
  if (found != informers_.end()) return &found->second;
  found = informers_.find("");
  return found != informers_.end() ? &found->second : nullptr;
}

std::optional<json> Caches::pipeline(const std::string& ns, const std::string& name) const {
  const auto* set = informers_for(ns);
  return set ? set->pipelines->get(ns, name) : std::nullopt;
}

std::vector<std::string> Caches::pipeline_keys() const {
  std::vector<std::string> all;
  for (const auto& [ns, set] : informers_) {
    auto some = set.pipelines->keys();
    all.insert(all.end(), std::make_move_iterator(some.begin()), std::make_move_iterator(some.end()));
  }
  return all;
}

std::vector<topics::Claim> Caches::claims_on(const std::vector<std::string>& topics, const std::string& self_uid,
                                            const topics::ClusterIdentity& self_cluster,
                                            topics::ClusterMatch matches) const {
  return claims_.claims_on(topics, self_uid, self_cluster, matches);
}

std::optional<json> Caches::owned(const kube::ResourceKind& kind, const std::string& ns,
                                 const std::string& name) const {
  const auto* set = informers_for(ns);
  const auto* informer = set ? set->owned(kind) : nullptr;
  return informer ? informer->get(ns, name) : std::nullopt;
}

bool Caches::caches_owned(const kube::ResourceKind& kind) const {
  return Informers::owned_member(kind) != nullptr;
}

std::vector<json> Caches::agent_pods(const std::string& ns, const json& selector_labels) const {
  std::vector<json> pods;
  const auto* set = informers_for(ns);
  if (!set) return pods;
  for (const auto& name : index_.pods_with_instance(ns, selector_labels.value(kInstanceLabel, ""))) {
    auto pod = set->pods->get(ns, name);
    if (pod && labels_match(*pod, selector_labels)) pods.push_back(std::move(*pod));
  }
  return pods;
}

std::vector<json> Caches::labelled_pods(const std::string& ns, const std::string& pipeline_label) const {
  std::vector<json> pods;
  const auto* set = informers_for(ns);
  if (!set) return pods;
  for (const auto& name : index_.pods_with_instance(ns, pipeline_label)) {
    auto pod = set->pods->get(ns, name);
    if (pod && label(*pod, kPipelineLabel) == pipeline_label) pods.push_back(std::move(*pod));
  }
  return pods;
}

std::optional<std::string> Caches::secret_version(const std::string& ns, const std::string& name) const {
  const auto* set = informers_for(ns);
  if (!set) return std::nullopt;
  const auto secret = set->secrets->get(ns, name);
  if (!secret) return std::nullopt;
  return secret->at("metadata").value("resourceVersion", "");
}

}  // namespace outflow::op::controller
