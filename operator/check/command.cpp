#include "operator/check/command.h"

#include "common/cli_validators.h"
#include "common/kube/api_client.h"
#include "common/kube/cluster_endpoint.h"
#include "common/kube/rest_client.h"
#include "common/time_format.h"
#include "operator/check/verdict.h"
#include "operator/status/agent_liveness.h"

#include <fmt/format.h>

#include <cstdlib>
#include <thread>

namespace outflow::op::check {

namespace {

using Clock = std::chrono::steady_clock;

HttpSeen http_get(const std::string& ip, int port, std::string_view path) {
  HttpSeen seen;
  try {
    kube::ClusterEndpoint endpoint;
    endpoint.server = fmt::format("http://{}:{}", ip, port);
    kube::RestClient client(std::move(endpoint), std::chrono::seconds(5));
    const auto response = client.request(kube::Method::Get, path, nullptr, "application/json", "text/plain");
    seen.status = response.status;
    seen.body = response.text;
  } catch (const std::exception& e) {
    seen.error = e.what();
  }
  return seen;
}

std::vector<ReplicaSeen> gather_replicas(kube::ApiClient& api, const CheckOptions& o) {
  std::vector<ReplicaSeen> out;
  kube::ListOptions list;
  list.label_selector = o.selector;
  const auto pods = api.list(kube::kinds::pods(), o.namespace_name, list);
  for (const auto& pod : pods.value("items", nlohmann::json::array())) {
    // The operator's reading of an agent pod serves for its own pods too.
    const auto seen = status::agent_pod_from_json(pod);
    if (seen.deleting_since_unix != 0) continue;  // on its way out
    ReplicaSeen r;
    r.pod = seen.name;
    r.kubelet_ready = seen.ready;
    r.ip = pod.value("status", nlohmann::json::object()).value("podIP", "");
    if (!r.ip.empty()) {
      r.readyz = http_get(r.ip, o.health_port, "/readyz");
      r.metrics = http_get(r.ip, o.metrics_port, "/metrics");
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<LeaseSeen> gather_lease(kube::ApiClient& api, const CheckOptions& o) {
  const auto lease = api.get_if_exists(kube::kinds::leases(), o.namespace_name, o.lease);
  if (!lease) return std::nullopt;
  const auto spec = lease->value("spec", nlohmann::json::object());
  LeaseSeen seen;
  seen.holder = spec.value("holderIdentity", "");
  seen.renewed_at = parse_rfc3339(spec.value("renewTime", ""));
  seen.duration_seconds = spec.value("leaseDurationSeconds", 0);
  return seen;
}

std::vector<Item> gather_and_judge(kube::ApiClient& api, const CheckOptions& o) {
  try {
    const auto replicas = gather_replicas(api, o);
    const auto lease = o.lease.empty() ? std::nullopt : gather_lease(api, o);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return judge(replicas, Expected{o.replicas, o.lease}, lease, now);
  } catch (const std::exception& e) {
    return {{"API server", Outcome::Failed,
             fmt::format("{} (the checker's service account needs get/list on pods and get on the Lease)", e.what())}};
  }
}

}  // namespace

void add_check_flags(CLI::App& check, CheckOptions& o) {
  check.add_option("--kubeconfig", o.kubeconfig, "Path to a kubeconfig; without it the in-cluster service account");
  check.add_option("--namespace", o.namespace_name, "The operator's namespace")->envname("POD_NAMESPACE");
  check.add_option("--selector", o.selector, "Label selector of the operator pods")->required();
  check.add_option("--replicas", o.replicas, "Operator pods expected")->check(CLI::Range(1, 100))->capture_default_str();
  check.add_option("--lease", o.lease, "Name of the leader-election Lease; leave out when election is off");
  check.add_option("--metrics-port", o.metrics_port, "The pods' metrics port")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  check.add_option("--health-port", o.health_port, "The pods' probe port")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  check.add_option_function<std::string>(
         "--timeout", [&o](const std::string& text) { o.timeout = cli::duration_or_throw(text, "--timeout"); },
         "How long to try again until every check passes (e.g. 60s)")
      ->default_str("60s");
}

int run_check(const CheckOptions& o, std::ostream& out) {
  if (o.namespace_name.empty()) {
    out << "--namespace is not set (nor POD_NAMESPACE): name the operator's namespace\n";
    return checklist::kExitConfig;
  }
  kube::ClusterEndpoint endpoint;
  try {
    endpoint = o.kubeconfig.empty() ? kube::load_in_cluster() : kube::load_kubeconfig(o.kubeconfig);
  } catch (const std::exception& e) {
    out << "cannot reach the API server: " << e.what() << '\n';
    return checklist::kExitConfig;
  }
  kube::RestClient rest(std::move(endpoint), std::chrono::seconds(10));
  kube::ApiClient api(rest);
  const auto deadline = Clock::now() + o.timeout;
  auto items = gather_and_judge(api, o);
  while (checklist::exit_code(items) != checklist::kExitReady && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    items = gather_and_judge(api, o);
  }
  out << checklist::render(items);
  return checklist::exit_code(items);
}

}  // namespace outflow::op::check
