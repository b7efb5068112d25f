#include "operator/controller/observe.h"

#include "common/kube/resource.h"
#include "common/pipeline/spec.h"
#include "operator/secrets/reader.h"
#include "operator/workloads/agent_config.h"
#include "operator/workloads/desired_objects.h"
#include "operator/workloads/identity.h"

namespace outflow::op::controller {

namespace kinds = kube::kinds;
using nlohmann::json;

void read_secrets(kube::ApiClient& api, const ClusterView& view, const std::string& ns,
                  const std::vector<std::string>& names, SecretsRead& memory) {
  secrets::Versions cached;
  for (const auto& name : names) cached[name] = view.secret_version(ns, name).value_or("");
  if (!secrets::must_read(cached, memory)) return;
  secrets::remember(memory, secrets::read_secrets(api, ns, names));
}

Observed observe(const ClusterView& view, kube::ApiClient& api, const json& pipeline, SecretsRead& secrets,
                 const std::function<bool()>& alert_rules_supported, const Clock& clock) {
  Observed observed;
  observed.pipeline = pipeline;
  observed.now = clock.now();
  observed.now_unix =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto& m = pipeline.at("metadata");
  const workloads::PipelineIdentity id{m.at("namespace"), m.at("name"), m.at("uid")};
  observed.deployment = view.owned(kinds::deployments(), id.namespace_name, workloads::agent_name(id));
  for (const auto& pod : view.agent_pods(id.namespace_name, workloads::selector_labels(id))) {
    observed.agent_pods.push_back(pod.at("metadata").value("name", ""));
  }
  for (const auto& pod : view.labelled_pods(id.namespace_name, workloads::label_value(id.name))) {
    observed.labelled_pods.push_back(status::agent_pod_from_json(pod));
  }
  try {
    const auto spec = pipeline::parse_spec(pipeline.value("spec", json::object()));
    // A paused pipeline is left alone, down to the requests made for it.
    if (!spec.paused) {
      read_secrets(api, view, id.namespace_name, workloads::referenced_secrets(spec), secrets);
      observed.alert_rules_supported =
          !m.contains("deletionTimestamp") && workloads::wants_alert_rules(spec) && alert_rules_supported();
    }
  } catch (const pipeline::SpecError&) {
    // Nothing to read for a spec that cannot be used; decide() reports it.
  }
  observed.secrets = secrets.data;
  observed.secrets_last_seen = secrets.last_seen;
  return observed;
}

}  // namespace outflow::op::controller
