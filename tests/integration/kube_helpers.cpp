#include "kube_helpers.h"

#include "common/kube/yaml_json.h"
#include "testenv.h"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace outflow::testenv {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

bool condition_true(const json& object, std::string_view type) {
  if (!object.contains("status") || !object["status"].contains("conditions")) return false;
  for (const auto& c : object["status"]["conditions"]) {
    if (c.value("type", "") == type) return c.value("status", "") == "True";
  }
  return false;
}

}  // namespace

kube::RestClient admin_client() { return kube::RestClient(kube::load_kubeconfig(require("KUBECONFIG"))); }

kube::ClusterEndpoint endpoint_with_token(const std::string& token) {
  kube::ClusterEndpoint ep;
  ep.server = require("OUTFLOW_TEST_KUBE_SERVER");
  ep.ca_pem = require_file("OUTFLOW_TEST_KUBE_CA");
  ep.bearer_token = token;
  return ep;
}

std::string service_account_token(kube::RestClient& client, const std::string& ns, const std::string& name) {
  // TokenRequest is a subresource: POST .../serviceaccounts/<name>/token.
  const nlohmann::json request = {{"apiVersion", "authentication.k8s.io/v1"},
                                  {"kind", "TokenRequest"},
                                  {"spec", {{"expirationSeconds", 3600}}}};
  const auto answer = client.post("/api/v1/namespaces/" + ns + "/serviceaccounts/" + name + "/token", request);
  if (!answer.ok()) throw std::runtime_error("TokenRequest for " + ns + "/" + name + " failed: " + answer.text);
  return answer.body["status"]["token"];
}

std::string write_token_kubeconfig(const std::string& token) {
  const std::string path = "/tmp/" + unique_name("kubeconfig");
  std::ofstream out(path);
  out << "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: "
      << require("OUTFLOW_TEST_KUBE_SERVER") << "\n    certificate-authority: " << require("OUTFLOW_TEST_KUBE_CA")
      << "\nusers:\n- name: sa\n  user:\n    token: " << token
      << "\ncontexts:\n- name: test\n  context: {cluster: test, user: sa}\ncurrent-context: test\n";
  if (!out) throw std::runtime_error("cannot write " + path);
  return path;
}

std::string source_path(std::string_view relative) {
  return std::string(OUTFLOW_SOURCE_DIR) + "/" + std::string(relative);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + " cannot be read");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

json read_manifest(const std::string& path) {
  auto documents = kube::parse_yaml_documents(read_text(path));
  if (documents.size() != 1) {
    throw std::runtime_error(path + " holds " + std::to_string(documents.size()) +
                             " YAML documents, expected exactly one");
  }
  return std::move(documents.front());
}

void apply_crd_and_wait_established(kube::RestClient& client, std::chrono::seconds timeout) {
  const json crd = read_manifest(source_path("crds/eventpipeline.yaml"));
  const std::string path =
      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + std::string(kCrdName);
  const auto deadline = Clock::now() + timeout;

  // JSON is YAML, so the apply-patch content type takes the converted manifest.
  // Parallel test processes apply the same object at once; the loser of a race
  // (409: already exists, or modified underneath) simply applies again.
  for (;;) {
    const auto applied = client.request(kube::Method::Patch,
                                        path + "?fieldManager=outflow-tests&force=true", &crd,
                                        "application/apply-patch+yaml");
    if (applied.ok()) break;
    if (applied.status != 409 || Clock::now() > deadline) {
      throw std::runtime_error("server-side apply of the EventPipeline CRD answered " +
                               std::to_string(applied.status) + ": " + applied.text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  // Established: names accepted and the API server serves the resource. The
  // handler follows the condition through an informer, so also wait until a
  // list of the new resource answers instead of 404.
  json last;
  for (;;) {
    const auto read = client.get(path);
    last = read.body;
    if (read.ok() && condition_true(read.body, "Established") &&
        condition_true(read.body, "NamesAccepted") &&
        client.get("/apis/outflow.dev/v1alpha1/eventpipelines?limit=1").ok()) {
      return;
    }
    if (Clock::now() > deadline) {
      throw std::runtime_error("the EventPipeline CRD did not become Established and served within " +
                               std::to_string(timeout.count()) + " s; last read: " + last.dump());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

ScopedNamespace::ScopedNamespace(kube::RestClient& client, std::string_view prefix)
    : client_(client), name_(unique_name(prefix)) {
  const auto created = client_.post(
      "/api/v1/namespaces",
      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name_}}}});
  if (created.status != 201) {
    throw std::runtime_error("creating namespace " + name_ + " answered " +
                             std::to_string(created.status) + ": " + created.text);
  }
}

ScopedNamespace::~ScopedNamespace() {
  try {
    client_.del("/api/v1/namespaces/" + name_);
  } catch (const std::exception&) {
    // The API server is gone: nothing is left to clean up on it.
  }
}

}  // namespace outflow::testenv
