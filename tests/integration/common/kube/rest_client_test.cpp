// The Kubernetes client against a real kube-apiserver: TLS verified against the
// test CA, bearer-token authentication, RBAC enforced.

#include "common/kube/rest_client.h"
#include "kube_helpers.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

using namespace outflow;
using nlohmann::json;

namespace {

class KubeApi : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = std::make_unique<kube::RestClient>(
        kube::load_kubeconfig(testenv::require("KUBECONFIG")));
    ns_ = testenv::unique_name("outflow-it");
    const auto created = admin_->post("/api/v1/namespaces", {{"apiVersion", "v1"},
                                                             {"kind", "Namespace"},
                                                             {"metadata", {{"name", ns_}}}});
    ASSERT_EQ(created.status, 201) << created.text;
  }
  void TearDown() override {
    if (admin_ && !ns_.empty()) admin_->del("/api/v1/namespaces/" + ns_);
  }

  std::unique_ptr<kube::RestClient> admin_;
  std::string ns_;
};

}  // namespace

TEST_F(KubeApi, AdminCreatesAConfigMapAndReadsItBack) {
  const json cm = {{"apiVersion", "v1"},
                   {"kind", "ConfigMap"},
                   {"metadata", {{"name", "pipeline-config"}, {"labels", {{"app", "outflow"}}}}},
                   {"data", {{"agent.yaml", "batchSize: 500\n"}}}};
  const auto created = admin_->post("/api/v1/namespaces/" + ns_ + "/configmaps", cm);
  ASSERT_EQ(created.status, 201) << created.text;
  EXPECT_FALSE(created.body["metadata"]["uid"].get<std::string>().empty());
  // Writes without an explicit field manager are attributed to our User-Agent.
  EXPECT_EQ(created.body["metadata"]["managedFields"][0]["manager"], "outflow") << created.text;

  const auto read = admin_->get("/api/v1/namespaces/" + ns_ + "/configmaps/pipeline-config");
  ASSERT_EQ(read.status, 200) << read.text;
  EXPECT_EQ(read.body["data"]["agent.yaml"], "batchSize: 500\n");
  EXPECT_EQ(read.body["metadata"]["labels"]["app"], "outflow");

  const auto again = admin_->post("/api/v1/namespaces/" + ns_ + "/configmaps", cm);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.body["reason"], "AlreadyExists");
}

TEST_F(KubeApi, UnprivilegedIdentityIsForbidden) {
  kube::RestClient user(testenv::endpoint_with_token(testenv::require("OUTFLOW_TEST_KUBE_USER_TOKEN")));
  const auto read = user.get("/api/v1/namespaces/" + ns_ + "/configmaps");
  EXPECT_EQ(read.status, 403) << read.text;
  EXPECT_EQ(read.body["reason"], "Forbidden");
  // The API server names who was refused, which proves the token authenticated.
  EXPECT_NE(read.body["message"].get<std::string>().find(
                testenv::require("OUTFLOW_TEST_KUBE_USER")),
            std::string::npos)
      << read.text;

  const auto write = user.post("/api/v1/namespaces/" + ns_ + "/configmaps",
                               {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                                {"metadata", {{"name", "x"}}}});
  EXPECT_EQ(write.status, 403) << write.text;
}

TEST(KubeApiTls, ServerCertificateIsVerified) {
  // Without the test CA the server's certificate chains to nothing we trust.
  auto ep = testenv::endpoint_with_token(testenv::require("OUTFLOW_TEST_KUBE_ADMIN_TOKEN"));
  ep.ca_pem.clear();
  kube::RestClient untrusting(ep, std::chrono::seconds(10));
  EXPECT_THROW(untrusting.get("/version"), kube::TransportError);
}

TEST(KubeApiTls, BadTokenIsUnauthorized) {
  kube::RestClient client(testenv::endpoint_with_token("not-a-valid-token"));
  EXPECT_EQ(client.get("/api/v1/namespaces").status, 401);
}

// In a pod the token is a file the kubelet rewrites before the token expires;
// the client must pick up the new one rather than keep sending the old.
TEST(KubeApiTls, ATokenFileIsReadAgainWhenItChanges) {
  const std::string path = "/tmp/" + testenv::unique_name("token");
  const auto write = [&](const std::string& token) {
    std::ofstream out(path, std::ios::trunc);
    out << token << "\n";
  };
  write("expired-token");
  auto endpoint = testenv::endpoint_with_token("expired-token");
  endpoint.token_file = path;
  endpoint.token_refresh = std::chrono::seconds(0);
  kube::RestClient client(endpoint);
  EXPECT_EQ(client.get("/api/v1/namespaces").status, 401);

  write(testenv::require("OUTFLOW_TEST_KUBE_ADMIN_TOKEN"));
  EXPECT_EQ(client.get("/api/v1/namespaces").status, 200);
  std::remove(path.c_str());
}
