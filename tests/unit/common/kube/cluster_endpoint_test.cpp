#include "common/kube/cluster_endpoint.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace outflow::kube;
namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "outflow-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return path_ / name;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

constexpr const char* kKubeconfig = R"(apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: local, user: admin, namespace: team-a}
- name: other
  context: {cluster: local, user: certuser}
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority: ca.crt
users:
- name: admin
  user: {token: abc123}
- name: certuser
  user:
    client-certificate-data: Y2VydC1wZW0=
    client-key-data: a2V5LXBlbQ==
)";

}  // namespace

TEST(Kubeconfig, ReadsCurrentContextWithRelativeCaPathAndToken) {
  TempDir dir;
  dir.write("ca.crt", "CA-PEM");
  const auto path = dir.write("config", kKubeconfig);
  const auto ep = load_kubeconfig(path.string());
  EXPECT_EQ(ep.server, "https://127.0.0.1:6443");
  EXPECT_EQ(ep.ca_pem, "CA-PEM");
  EXPECT_EQ(ep.bearer_token, "abc123");
  EXPECT_EQ(ep.namespace_name, "team-a");
}

TEST(Kubeconfig, ExplicitContextWithInlineClientCertificate) {
  TempDir dir;
  dir.write("ca.crt", "CA-PEM");
  const auto ep = load_kubeconfig(dir.write("config", kKubeconfig).string(), "other");
  EXPECT_EQ(ep.client_cert_pem, "cert-pem");
  EXPECT_EQ(ep.client_key_pem, "key-pem");
  EXPECT_TRUE(ep.bearer_token.empty());
  EXPECT_EQ(ep.namespace_name, "default");
}

TEST(Kubeconfig, ErrorsNameWhatIsMissing) {
  TempDir dir;
  const auto path = dir.write("config", kKubeconfig);
  // ca.crt is referenced but absent.
  try {
    load_kubeconfig(path.string());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("ca.crt"), std::string::npos) << e.what();
  }
  dir.write("ca.crt", "CA-PEM");
  try {
    load_kubeconfig(path.string(), "nope");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("\"nope\""), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_kubeconfig((dir.path() / "absent").string()), ConfigError);
}

TEST(InCluster, ReadsServiceAccountMount) {
  TempDir dir;
  dir.write("token", "sa-token\n");
  dir.write("ca.crt", "CA");
  dir.write("namespace", "ns1");
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  const auto ep = load_in_cluster(dir.path().string());
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  EXPECT_EQ(ep.server, "https://[fd00::1]:443");
  EXPECT_EQ(ep.bearer_token, "sa-token");
  EXPECT_EQ(ep.namespace_name, "ns1");
  EXPECT_THROW(load_in_cluster(dir.path().string()), ConfigError);
}

TEST(Base64, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(decode_base64("aGVsbG8="), "hello");
  EXPECT_EQ(decode_base64("aGVsbG8"), "hello");
  EXPECT_EQ(decode_base64("YQ=="), "a");
  EXPECT_THROW(decode_base64("a*b"), ConfigError);
}
