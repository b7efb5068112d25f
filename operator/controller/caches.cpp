#include "operator/controller/caches.h"

#include "common/kube/resource.h"
#include "common/pipeline/spec.h"
#include "operator/controller/pipeline_change.h"
#include "operator/workloads/agent_config.h"
#include "operator/workloads/identity.h"

#include <algorithm>

namespace outflow::op::controller {
namespace {

namespace kinds = kube::kinds;
using nlohmann::json;

constexpr const char* kManagedSelector = "app.kubernetes.io/managed-by=outflow-operator";
constexpr const char* kAgentPodSelector = "app.kubernetes.io/name=outflow-agent";

std::string key_of(const json& object) {
  const auto& m = object.at("metadata");
  return m.value("namespace", "") + "/" + m.value("name", "");
}

// Secret values stay out of the cache: the reconciler reads a Secret's data
// only when its resourceVersion says it changed.
json metadata_only(json secret) {
  json m = secret.value("metadata", json::object());
  return {{"metadata",
           {{"name", m.value("name", "")},
            {"namespace", m.value("namespace", "")},
            {"resourceVersion", m.value("resourceVersion", "")}}}};
}

bool labels_match(const json& object, const json& selector) {
  const auto labels = object.at("metadata").value("labels", json::object());
  for (const auto& [k, v] : selector.items()) {
    if (!labels.contains(k) || labels.at(k) != v) return false;
  }
  return true;
}

}  // namespace

std::vector<kube::Informer*> Caches::Informers::all() const {
  // Pipelines last: by the time a pipeline is reconciled, what it refers to is cached.
  return {secrets.get(), deployments.get(), config_maps.get(), pods.get(), pipelines.get()};
}

Caches::Caches(kube::RestClient& rest, std::vector<std::string> namespaces, OnChange on_change)
    : on_change_(std::move(on_change)) {
  if (namespaces.empty()) namespaces.push_back("");
  for (const auto& ns : namespaces) {
    Informers set;
    auto make = [&](kube::ResourceKind kind, std::string selector,
                    std::function<json(json)> transform = {}) {
      kube::InformerOptions options;
      options.namespace_name = ns;
      options.label_selector = std::move(selector);
      options.transform = std::move(transform);
      return std::make_unique<kube::Informer>(rest, std::move(kind), std::move(options));
    };
    set.pipelines = make(kinds::event_pipelines(), "");
    set.deployments = make(kinds::deployments(), kManagedSelector);
    set.config_maps = make(kinds::config_maps(), kManagedSelector);
    set.pods = make(kinds::pods(), kAgentPodSelector);
    set.secrets = make(kinds::secrets(), "", metadata_only);

    set.pipelines->add_handler([this](kube::InformerEventType type, const json& o) { changed_pipeline(type, o); });
    auto owned = [this](kube::InformerEventType, const json& o) { changed_owned(o); };
    set.deployments->add_handler(owned);
    set.config_maps->add_handler(owned);
    set.pods->add_handler(owned);
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
  // Deployments and ConfigMaps name their pipeline as controller owner; pods
  // (owned by a ReplicaSet) carry the pipeline's selector labels.
  for (const auto& ref : m.value("ownerReferences", json::array())) {
    if (ref.value("kind", "") == "EventPipeline") {
      on_change_(ns + "/" + ref.value("name", ""));
      return;
    }
  }
  for (const auto& p : pipelines()) {
    const auto& pm = p.at("metadata");
    if (pm.value("namespace", "") != ns) continue;
    const workloads::PipelineIdentity id{ns, pm.value("name", ""), pm.value("uid", "")};
    if (labels_match(object, workloads::selector_labels(id))) on_change_(key_of(p));
  }
}

void Caches::changed_secret(const json& secret) {
  const auto& m = secret.at("metadata");
  const auto ns = m.value("namespace", "");
  const auto name = m.value("name", "");
  for (const auto& p : pipelines()) {
    if (p.at("metadata").value("namespace", "") != ns) continue;
    try {
      const auto refs = workloads::referenced_secrets(pipeline::parse_spec(p.value("spec", json::object())));
      if (std::find(refs.begin(), refs.end(), name) != refs.end()) on_change_(key_of(p));
    } catch (const pipeline::SpecError&) {
      // An invalid spec references nothing usable; its own reconcile reports it.
    }
  }
}

void Caches::changed_pipeline(kube::InformerEventType type, const json& pipeline) {
  const auto key = key_of(pipeline);
  {
    std::lock_guard lock(fingerprints_mutex_);
    if (type == kube::InformerEventType::Deleted) {
      fingerprints_.erase(key);
    } else {
      auto fingerprint = reconcile_fingerprint(pipeline);
      auto [it, fresh] = fingerprints_.try_emplace(key, fingerprint);
      if (!fresh && it->second == fingerprint) return;  // a heartbeat, nothing to reconcile
      it->second = std::move(fingerprint);
    }
  }
  on_change_(key);
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

std::vector<json> Caches::pipelines() const {
  std::vector<json> all;
  for (const auto& [ns, set] : informers_) {
    auto some = set.pipelines->list();
    all.insert(all.end(), std::make_move_iterator(some.begin()), std::make_move_iterator(some.end()));
  }
  return all;
}

std::optional<json> Caches::deployment(const std::string& ns, const std::string& name) const {
  const auto* set = informers_for(ns);
  return set ? set->deployments->get(ns, name) : std::nullopt;
}

std::optional<json> Caches::config_map(const std::string& ns, const std::string& name) const {
  const auto* set = informers_for(ns);
  return set ? set->config_maps->get(ns, name) : std::nullopt;
}

std::vector<json> Caches::agent_pods(const std::string& ns, const json& selector_labels) const {
  std::vector<json> pods;
  const auto* set = informers_for(ns);
  if (!set) return pods;
  for (auto& pod : set->pods->list(ns)) {
    if (labels_match(pod, selector_labels)) pods.push_back(std::move(pod));
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
