#pragma once

// Shared set-up for integration tests that talk to the real API server: an
// admin client, the EventPipeline CRD installed and served, and a namespace
// of the test's own that is deleted when the test ends.

#include "common/kube/rest_client.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace outflow::testenv {

// A client with the admin identity of the test environment's KUBECONFIG.
kube::RestClient admin_client();

// The test API server with the test CA, authenticating with `token`.
kube::ClusterEndpoint endpoint_with_token(const std::string& token);

// A token for ServiceAccount `ns/name` from the TokenRequest API, valid for an hour.
std::string service_account_token(kube::RestClient& client, const std::string& ns, const std::string& name);

// Writes a kubeconfig for the test API server (test CA) that authenticates
// with `token`; returns its path under /tmp (the caller removes it).
std::string write_token_kubeconfig(const std::string& token);

// An absolute path inside the source tree, e.g. source_path("crds/eventpipeline.yaml").
std::string source_path(std::string_view relative);

// The whole text of a file; throws naming the path when it cannot be read.
std::string read_text(const std::string& path);

// The single YAML document of a manifest file, as JSON. Throws when the file
// holds no document or more than one.
nlohmann::json read_manifest(const std::string& path);

inline constexpr std::string_view kCrdName = "eventpipelines.outflow.dev";

// Server-side applies crds/eventpipeline.yaml (field manager "outflow-tests",
// force) and waits, bounded by `timeout`, until the CRD is Established and its
// resource is served. Idempotent and safe to call from parallel test processes:
// a 409 Conflict from a concurrent apply or create is retried. Throws
// std::runtime_error with the API server's answer when it does not get there.
void apply_crd_and_wait_established(kube::RestClient& client,
                                    std::chrono::seconds timeout = std::chrono::seconds(30));

// A namespace with a unique name, created on construction and deleted (without
// waiting for it to go) on destruction.
class ScopedNamespace {
 public:
  ScopedNamespace(kube::RestClient& client, std::string_view prefix);
  ~ScopedNamespace();
  ScopedNamespace(const ScopedNamespace&) = delete;
  ScopedNamespace& operator=(const ScopedNamespace&) = delete;

  const std::string& name() const { return name_; }

 private:
  kube::RestClient& client_;
  std::string name_;
};

}  // namespace outflow::testenv
