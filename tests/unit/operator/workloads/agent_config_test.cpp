#include "operator/workloads/agent_config.h"

#include "example_pipeline.h"

#include <gtest/gtest.h>

using namespace outflow::op::workloads;
using outflow::testing::example_spec;
using outflow::testing::identity;

TEST(AgentConfig, MinimalPipelineMountsOnlyTheDatabaseSecret) {
  const auto mounts = secret_mounts(example_spec("minimal.yaml"));
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].secret, "orders-db");
  EXPECT_EQ(mounts[0].items, (std::vector<std::pair<std::string, std::string>>{{"url", "url"}}));
}

TEST(AgentConfig, TlsAndScramSecretsAreMountedAsFilesNamedInTheConfig) {
  const auto spec = example_spec("tls-scram.yaml");
  EXPECT_EQ(referenced_secrets(spec), (std::vector<std::string>{"kafka-ca", "payments-db", "payments-kafka"}));
  const auto config = agent_config(identity("payments"), spec);
  EXPECT_EQ(config["files"]["databaseUrl"], "/var/run/outflow/secrets/database/url");
  EXPECT_EQ(config["files"]["kafkaCa"], "/var/run/outflow/secrets/kafka-ca/ca.crt");
  EXPECT_EQ(config["files"]["saslUsername"], "/var/run/outflow/secrets/kafka-sasl/username");
  EXPECT_EQ(config["files"]["saslPassword"], "/var/run/outflow/secrets/kafka-sasl/password");
  EXPECT_FALSE(config["files"].contains("kafkaClientCert"));
}

TEST(AgentConfig, MutualTlsMountsCertificateAndKey) {
  const auto config = agent_config(identity("shipping"), example_spec("dead-letter-alerts.yaml"));
  EXPECT_EQ(config["files"]["kafkaClientCert"], "/var/run/outflow/secrets/kafka-client-cert/tls.crt");
  EXPECT_EQ(config["files"]["kafkaClientKey"], "/var/run/outflow/secrets/kafka-client-cert/tls.key");
}

TEST(AgentConfig, RenderedConfigParsesBackToTheSameSpec) {
  // One source of truth: the agent reads its config with the operator's parser.
  for (const char* file : {"minimal.yaml", "tls-scram.yaml", "dead-letter-alerts.yaml"}) {
    SCOPED_TRACE(file);
    const auto spec = example_spec(file);
    const auto text = render_agent_config(agent_config(identity(), spec));
    const auto parsed = outflow::kube::parse_yaml_documents(text).at(0);
    EXPECT_EQ(outflow::pipeline::parse_spec(parsed.at("spec")), spec);
    EXPECT_EQ(parsed["pipeline"]["name"], "orders");
  }
}

TEST(AgentConfig, ConfigMapCarriesTheRenderedText) {
  const auto cm = agent_config_map(identity(), "text");
  EXPECT_EQ(cm["kind"], "ConfigMap");
  EXPECT_EQ(cm["metadata"]["name"], "orders-agent");
  EXPECT_EQ(cm["data"]["agent.yaml"], "text");
}
