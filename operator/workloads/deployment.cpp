#include "operator/workloads/deployment.h"

#include "operator/workloads/agent_config.h"
#include "operator/workloads/image_policy.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <memory>

namespace outflow::op::workloads {
namespace {

using nlohmann::json;

// The agent image runs as this unprivileged user; fixing it lets
// runAsNonRoot be verified even for images without a numeric USER.
constexpr int kAgentUid = 65532;

json container(const pipeline::PipelineSpec& spec, const OperatorDefaults& defaults) {
  json mounts = json::array({{{"name", "config"}, {"mountPath", kConfigDir}, {"readOnly", true}},
                             {{"name", "tmp"}, {"mountPath", "/tmp"}}});
  for (const auto& m : secret_mounts(spec)) {
    mounts.push_back({{"name", "secret-" + m.volume}, {"mountPath", m.mount_path}, {"readOnly", true}});
  }
  auto field_env = [](const char* name, const char* path) {
    return json{{"name", name}, {"valueFrom", {{"fieldRef", {{"fieldPath", path}}}}}};
  };
  auto probe = [](const char* path, int period, int failures) {
    return json{{"httpGet", {{"path", path}, {"port", "health"}}},
                {"periodSeconds", period},
                {"timeoutSeconds", 2},
                {"failureThreshold", failures}};
  };
  json c = {
      {"name", "agent"},
      {"image", effective_agent_image(spec.agent.image, defaults)},
      {"imagePullPolicy", spec.agent.image_pull_policy.empty() ? defaults.image_pull_policy
                                                                : spec.agent.image_pull_policy},
      {"args", json::array({fmt::format("--config={}/{}", kConfigDir, kConfigFile),
                            fmt::format("--metrics-addr=:{}", defaults.metrics_port),
                            fmt::format("--health-addr=:{}", defaults.health_port), "--log-format=json"})},
      {"env", json::array({field_env("POD_NAME", "metadata.name"),
                           field_env("POD_NAMESPACE", "metadata.namespace")})},
      {"ports", json::array({{{"name", "metrics"}, {"containerPort", defaults.metrics_port}},
                             {{"name", "health"}, {"containerPort", defaults.health_port}}})},
      {"livenessProbe", probe("/healthz", 10, 3)},
      {"readinessProbe", probe("/readyz", 5, 2)},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", kAgentUid},
        {"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities", {{"drop", json::array({"ALL"})}}}}},
      {"volumeMounts", mounts},
  };
  c["resources"] = spec.agent.resources.empty() ? default_agent_resources() : spec.agent.resources;
  return c;
}

}  // namespace

json default_agent_resources() {
  // Measured: 18-26 MiB resident idle and while draining 1 KiB rows, a few
  // percent of a core at a steady 2,000 rows/s. The memory limit leaves room
  // for a batch of large rows (batchSize 500 x rows near 1 MiB is about
  // 0.5 GiB); no CPU limit, so a backlog drains as fast as the node allows.
  return {{"requests", {{"cpu", "100m"}, {"memory", "64Mi"}}}, {"limits", {{"memory", "1Gi"}}}};
}

namespace {

json volumes(const PipelineIdentity& pipeline, const pipeline::PipelineSpec& spec) {
  json v = json::array({{{"name", "config"}, {"configMap", {{"name", agent_name(pipeline)}}}},
                        {{"name", "tmp"}, {"emptyDir", {{"sizeLimit", "64Mi"}}}}});
  for (const auto& m : secret_mounts(spec)) {
    json items = json::array();
    for (const auto& [key, file] : m.items) items.push_back({{"key", key}, {"path", file}});
    v.push_back({{"name", "secret-" + m.volume},
                 {"secret", {{"secretName", m.secret}, {"items", items}, {"defaultMode", 0440}}}});
  }
  return v;
}

}  // namespace

std::string checksum_of(const std::vector<std::string>& parts) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  for (const auto& p : parts) {
    const auto length = fmt::format("{}:", p.size());
    EVP_DigestUpdate(ctx.get(), length.data(), length.size());
    EVP_DigestUpdate(ctx.get(), p.data(), p.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &size);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

json agent_deployment(const PipelineIdentity& pipeline, const pipeline::PipelineSpec& spec,
                      const OperatorDefaults& defaults, const std::string& checksum) {
  json annotations = json::object();
  for (const auto& [k, v] : spec.agent.pod_annotations) annotations[k] = v;
  annotations[kChecksumAnnotation] = checksum;
  annotations["prometheus.io/scrape"] = "true";
  annotations["prometheus.io/port"] = std::to_string(defaults.metrics_port);

  json pod = {
      {"serviceAccountName", agent_name(pipeline)},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", kAgentUid},
        {"runAsGroup", kAgentUid},
        {"fsGroup", kAgentUid},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      // SIGTERM drains in-flight deliveries; give that time before SIGKILL.
      {"terminationGracePeriodSeconds", 60},
      {"containers", json::array({container(spec, defaults)})},
      {"volumes", volumes(pipeline, spec)},
  };
  if (!spec.agent.node_selector.empty()) pod["nodeSelector"] = spec.agent.node_selector;
  if (!spec.agent.tolerations.empty()) pod["tolerations"] = spec.agent.tolerations;
  if (!spec.agent.affinity.empty()) pod["affinity"] = spec.agent.affinity;
  if (!spec.agent.priority_class_name.empty()) pod["priorityClassName"] = spec.agent.priority_class_name;

  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", object_metadata(pipeline, agent_name(pipeline))},
          {"spec",
           {{"replicas", spec.agent.replicas},
            {"selector", {{"matchLabels", selector_labels(pipeline)}}},
            {"strategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxUnavailable", 1}, {"maxSurge", 1}}}}},
            {"template",
             {{"metadata", {{"labels", common_labels(pipeline)}, {"annotations", annotations}}},
              {"spec", pod}}}}}};
}

}  // namespace outflow::op::workloads
