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
  EXPECT_EQ(config["outbox"]["databaseUrl"]["file"], "/var/run/outflow/secrets/database/url");
  EXPECT_EQ(config["kafka"]["tls"]["caFile"], "/var/run/outflow/secrets/kafka-ca/ca.crt");
  EXPECT_EQ(config["kafka"]["sasl"]["username"]["file"], "/var/run/outflow/secrets/kafka-sasl/username");
  EXPECT_EQ(config["kafka"]["sasl"]["password"]["file"], "/var/run/outflow/secrets/kafka-sasl/password");
  EXPECT_FALSE(config["kafka"]["tls"].contains("certFile"));
}

TEST(AgentConfig, MutualTlsMountsCertificateAndKey) {
  const auto config = agent_config(identity("shipping"), example_spec("dead-letter-alerts.yaml"));
  EXPECT_EQ(config["kafka"]["tls"]["certFile"], "/var/run/outflow/secrets/kafka-client-cert/tls.crt");
  EXPECT_EQ(config["kafka"]["tls"]["keyFile"], "/var/run/outflow/secrets/kafka-client-cert/tls.key");
}

TEST(AgentConfig, RenderedConfigIsAnAgentConfigParsedByTheSameSectionParser) {
  // One source of truth: the agent reads its config with the EventPipeline's section parser.
  for (const char* file : {"minimal.yaml", "tls-scram.yaml", "dead-letter-alerts.yaml"}) {
    SCOPED_TRACE(file);
    const auto spec = example_spec(file);
    const auto text = render_agent_config(agent_config(identity(), spec));
    const auto parsed = outflow::kube::parse_yaml_documents(text).at(0);
    EXPECT_EQ(parsed["apiVersion"], "outflow.dev/v1alpha1");
    EXPECT_EQ(parsed["kind"], "AgentConfig");
    EXPECT_EQ(parsed["metadata"], (nlohmann::json{{"namespace", "shop"}, {"name", "orders"}}));
    EXPECT_EQ(parsed["status"]["eventPipeline"]["uid"], identity().uid);
    const auto sections = outflow::pipeline::parse_agent_config_sections(parsed);
    EXPECT_EQ(sections.kafka.bootstrap_servers, spec.kafka.bootstrap_servers);
    EXPECT_EQ(sections.outbox.columns, spec.outbox.columns);
    EXPECT_EQ(sections.outbox.default_topic, spec.outbox.default_topic);
    EXPECT_EQ(sections.circuit_breaker, spec.circuit_breaker);
    ASSERT_EQ(sections.topics.size(), spec.topics.size());
    for (std::size_t i = 0; i < spec.topics.size(); ++i) EXPECT_EQ(sections.topics[i].name, spec.topics[i].name);
    ASSERT_EQ(sections.dead_letter.has_value(), spec.dead_letter.has_value());
    if (spec.dead_letter) {
      EXPECT_EQ(sections.dead_letter->topic, spec.dead_letter->topic);
      EXPECT_EQ(sections.dead_letter->max_attempts, spec.dead_letter->max_attempts);
      EXPECT_EQ(sections.dead_letter->backoff, spec.dead_letter->backoff);
    }
  }
}

TEST(AgentConfig, ChangesTheAgentDoesNotUseRenderTheSameFile) {
  // The file's text is in the pods' roll-out checksum: the same text, no roll.
  const auto spec = example_spec("dead-letter-alerts.yaml");
  const auto before = render_agent_config(agent_config(identity(), spec));
  auto changed = spec;
  changed.topics[0].partitions += 3;
  changed.topics[0].config["retention.ms"] = "1000";
  changed.dead_letter->partitions += 2;
  changed.dead_letter->config["retention.ms"] = "1000";
  changed.agent.replicas += 1;
  changed.agent.resources = {{"limits", {{"memory", "1Gi"}}}};
  changed.alerts.defaults = !changed.alerts.defaults;
  changed.topic_deletion_policy = outflow::pipeline::TopicDeletionPolicy::Delete;
  EXPECT_EQ(render_agent_config(agent_config(identity(), changed)), before);
}

TEST(AgentConfig, ChangesTheAgentUsesRenderADifferentFile) {
  const auto spec = example_spec("dead-letter-alerts.yaml");
  const auto before = render_agent_config(agent_config(identity(), spec));
  auto renamed = spec;
  renamed.topics[0].name += "-v2";
  renamed.outbox.default_topic = renamed.topics[0].name;
  EXPECT_NE(render_agent_config(agent_config(identity(), renamed)), before);
  auto breaker = spec;
  breaker.circuit_breaker.open_duration_ms += 1;
  EXPECT_NE(render_agent_config(agent_config(identity(), breaker)), before);
  auto retries = spec;
  retries.dead_letter->max_attempts += 1;
  EXPECT_NE(render_agent_config(agent_config(identity(), retries)), before);
  auto batch = spec;
  batch.outbox.batch_size += 1;
  EXPECT_NE(render_agent_config(agent_config(identity(), batch)), before);
}

TEST(AgentConfig, ConfigMapCarriesTheRenderedText) {
  const auto cm = agent_config_map(identity(), "text");
  EXPECT_EQ(cm["kind"], "ConfigMap");
  EXPECT_EQ(cm["metadata"]["name"], "orders-agent");
  EXPECT_EQ(cm["data"]["agent.yaml"], "text");
}
