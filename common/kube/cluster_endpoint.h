#pragma once

// Where the Kubernetes API server is and how to authenticate to it, read from a
// kubeconfig file or from the pod's service-account mount.

#include <chrono>
#include <stdexcept>
#include <string>

namespace outflow::kube {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ClusterEndpoint {
  std::string server;           // https://host:port, no trailing slash
  std::string ca_pem;           // trust anchor for the server certificate
  std::string bearer_token;     // secret: never logged
  std::string client_cert_pem;  // client-certificate authentication (optional)
  std::string client_key_pem;   // secret: never logged
  std::string namespace_name;   // the context's namespace, "default" if unset
  // Where bearer_token came from (in-cluster, kubeconfig tokenFile). Bound
  // service-account tokens expire and the kubelet rewrites the file, so the
  // client re-reads it instead of holding the first token forever.
  std::string token_file{};
  std::chrono::seconds token_refresh{60};  // how often token_file is re-read
};

// Reads the current context (or `context` when given) of a kubeconfig file.
// Supports certificate-authority(-data), token, tokenFile, client-certificate(-data)
// and client-key(-data). Throws ConfigError naming the missing piece.
ClusterEndpoint load_kubeconfig(const std::string& path, const std::string& context = {});

// In-cluster: KUBERNETES_SERVICE_HOST/PORT plus the mounted service-account
// token, CA and namespace under `mount_dir`.
ClusterEndpoint load_in_cluster(
    const std::string& mount_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// Pure helper exposed for tests: standard base64 (RFC 4648) with padding.
std::string decode_base64(const std::string& text);

}  // namespace outflow::kube
