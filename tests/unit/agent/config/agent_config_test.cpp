#include "agent/config/agent_config.h"

#include "operator/workloads/agent_config.h"
#include "unit/operator/workloads/example_pipeline.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

using outflow::agent::AgentConfig;
using outflow::agent::ConfigError;
using outflow::agent::FileReadError;
using outflow::agent::load_agent_config;
using outflow::testing::example_spec;
using outflow::testing::identity;
namespace workloads = outflow::op::workloads;
namespace pipeline = outflow::pipeline;

namespace {

const std::string kSecrets = "/var/run/outflow/secrets";
const std::string kDatabaseUrl = "postgres://app:db-s3cret@db.shop:5432/orders";
const std::string kSaslUser = "payments-user";
const std::string kSaslPassword = "sasl-hunter2";
const std::string kTlsKey = "-----BEGIN PRIVATE KEY-----\nkey-material\n-----END PRIVATE KEY-----\n";

// An in-memory pod: the files the kubelet would mount and the downward-API
// variables. Tests remove or change entries to break one thing at a time.
struct FakePod {
  std::map<std::string, std::string> files{
      {kSecrets + "/database/url", kDatabaseUrl + "\n"},
      {kSecrets + "/kafka-ca/ca.crt", "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n"},
      {kSecrets + "/kafka-client-cert/tls.crt", "-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----\n"},
      {kSecrets + "/kafka-client-cert/tls.key", kTlsKey},
      {kSecrets + "/kafka-sasl/username", kSaslUser + "\n"},
      {kSecrets + "/kafka-sasl/password", kSaslPassword + "\n"},
  };
  std::map<std::string, std::string> env{{"POD_NAME", "orders-agent-7d9f-abcde"}, {"POD_NAMESPACE", "shop"}};

  AgentConfig load(const std::string& text) const {
    return load_agent_config(
        text,
        [this](const std::string& path) {
          const auto it = files.find(path);
          if (it == files.end()) throw FileReadError("No such file or directory");
          return it->second;
        },
        [this](const std::string& name) -> std::optional<std::string> {
          const auto it = env.find(name);
          if (it == env.end()) return std::nullopt;
          return it->second;
        });
  }

  // The ConfigError message of loading `text`; fails the test when it loads.
  std::string error(const std::string& text) const {
    try {
      load(text);
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "config loaded without an error";
    return {};
  }
};

std::string rendered(const pipeline::PipelineSpec& spec) {
  return workloads::render_agent_config(workloads::agent_config(identity(), spec));
}

// Every optional Kafka file in one spec: TLS with CA, mutual TLS and SASL.
pipeline::PipelineSpec full_spec() {
  auto spec = example_spec("tls-scram.yaml");
  spec.kafka.tls->client_cert_secret = "payments-kafka-tls";
  return spec;
}

void expect_no_secret(const std::string& message) {
  EXPECT_EQ(message.find("db-s3cret"), std::string::npos) << message;
  EXPECT_EQ(message.find(kSaslPassword), std::string::npos) << message;
  EXPECT_EQ(message.find(kSaslUser), std::string::npos) << message;
  EXPECT_EQ(message.find("key-material"), std::string::npos) << message;
}

}  // namespace

TEST(AgentStartupConfig, LoadsWhatTheOperatorRendersForAMinimalPipeline) {
  const auto spec = example_spec("minimal.yaml");
  const auto config = FakePod{}.load(rendered(spec));
  EXPECT_EQ(config.pipeline, (outflow::agent::PipelineRef{"shop", "orders", identity().uid}));
  EXPECT_EQ(config.spec, spec);
  EXPECT_EQ(config.database_url, kDatabaseUrl);
  EXPECT_EQ(config.kafka.bootstrap_servers, spec.kafka.bootstrap_servers);
  EXPECT_EQ(config.kafka.connect_timeout_ms, spec.kafka.connect_timeout_ms);
  EXPECT_EQ(config.kafka.request_timeout_ms, spec.kafka.request_timeout_ms);
  EXPECT_FALSE(config.kafka.tls);
  EXPECT_FALSE(config.kafka.sasl);
  EXPECT_EQ(config.pod_name, "orders-agent-7d9f-abcde");
  EXPECT_EQ(config.pod_namespace, "shop");
}

TEST(AgentStartupConfig, TlsCaAndScramComeFromTheMountedSecretFiles) {
  const auto spec = example_spec("tls-scram.yaml");
  const auto config = FakePod{}.load(rendered(spec));
  EXPECT_EQ(config.spec, spec);
  ASSERT_TRUE(config.kafka.tls);
  EXPECT_EQ(config.kafka.tls->ca_file, kSecrets + "/kafka-ca/ca.crt");
  EXPECT_TRUE(config.kafka.tls->cert_file.empty());
  EXPECT_TRUE(config.kafka.tls->key_file.empty());
  EXPECT_TRUE(config.kafka.tls->ca_pem.empty());
  ASSERT_TRUE(config.kafka.sasl);
  EXPECT_EQ(config.kafka.sasl->mechanism, outflow::kafka::SaslMechanism::ScramSha512);
  EXPECT_EQ(config.kafka.sasl->username, kSaslUser);
  EXPECT_EQ(config.kafka.sasl->password, kSaslPassword);
}

TEST(AgentStartupConfig, MutualTlsUsesTheClientCertificateAndKeyFiles) {
  const auto config = FakePod{}.load(rendered(example_spec("dead-letter-alerts.yaml")));
  ASSERT_TRUE(config.kafka.tls);
  EXPECT_EQ(config.kafka.tls->ca_file, kSecrets + "/kafka-ca/ca.crt");
  EXPECT_EQ(config.kafka.tls->cert_file, kSecrets + "/kafka-client-cert/tls.crt");
  EXPECT_EQ(config.kafka.tls->key_file, kSecrets + "/kafka-client-cert/tls.key");
  EXPECT_FALSE(config.kafka.sasl);
}

TEST(AgentStartupConfig, SettingsTurnIntoLibrdkafkaProperties) {
  // The settings are complete enough for the client builder the agent will use.
  const auto config = FakePod{}.load(rendered(full_spec()));
  std::map<std::string, std::string> props;
  for (const auto& p : outflow::kafka::client_properties(config.kafka)) props[p.name] = p.value;
  EXPECT_EQ(props["security.protocol"], "sasl_ssl");
  EXPECT_EQ(props["sasl.mechanisms"], "SCRAM-SHA-512");
  EXPECT_EQ(props["ssl.ca.location"], kSecrets + "/kafka-ca/ca.crt");
  EXPECT_EQ(props["ssl.key.location"], kSecrets + "/kafka-client-cert/tls.key");
}

TEST(AgentStartupConfig, DisabledTlsIsPlaintextAndNeedsNoCaFile) {
  auto spec = example_spec("tls-scram.yaml");
  spec.kafka.tls->enabled = false;
  FakePod pod;
  pod.files.erase(kSecrets + "/kafka-ca/ca.crt");
  const auto config = pod.load(rendered(spec));
  EXPECT_FALSE(config.kafka.tls);
  EXPECT_TRUE(config.kafka.sasl);
}

TEST(AgentStartupConfig, EachMissingSecretFileIsNamedWithItsPath) {
  const auto text = rendered(full_spec());
  const std::map<std::string, std::string> file_of_setting{
      {"databaseUrl", kSecrets + "/database/url"},
      {"kafkaCa", kSecrets + "/kafka-ca/ca.crt"},
      {"kafkaClientCert", kSecrets + "/kafka-client-cert/tls.crt"},
      {"kafkaClientKey", kSecrets + "/kafka-client-cert/tls.key"},
      {"saslUsername", kSecrets + "/kafka-sasl/username"},
      {"saslPassword", kSecrets + "/kafka-sasl/password"},
  };
  for (const auto& [setting, path] : file_of_setting) {
    SCOPED_TRACE(setting);
    FakePod pod;
    ASSERT_EQ(pod.files.erase(path), 1u);
    const auto message = pod.error(text);
    EXPECT_EQ(message, "files." + setting + ": cannot read " + path + ": No such file or directory");
    expect_no_secret(message);
  }
}

TEST(AgentStartupConfig, AFileTheSpecNeedsButTheConfigDoesNotNameIsReported) {
  auto config = workloads::agent_config(identity(), full_spec());
  config["files"].erase("kafkaCa");
  config["files"].erase("saslPassword");
  const auto message = FakePod{}.error(workloads::render_agent_config(config));
  EXPECT_NE(message.find("files.kafkaCa: required because spec.kafka.tls.caSecretRef is set"), std::string::npos)
      << message;
  EXPECT_NE(message.find("files.saslPassword: required because spec.kafka.sasl is set"), std::string::npos)
      << message;
}

TEST(AgentStartupConfig, EmptySecretFilesAreRejected) {
  FakePod pod;
  pod.files[kSecrets + "/kafka-sasl/password"] = "\n";
  EXPECT_EQ(pod.error(rendered(full_spec())),
            "files.saslPassword: " + kSecrets + "/kafka-sasl/password is empty (check the Secret's key)");
}

TEST(AgentStartupConfig, MissingDownwardApiVariablesSayHowToSetThem) {
  const auto text = rendered(example_spec("minimal.yaml"));
  {
    FakePod pod;
    pod.env.erase("POD_NAME");
    EXPECT_EQ(pod.error(text), "POD_NAME is not set (set it from the downward API: fieldRef metadata.name)");
  }
  {
    FakePod pod;
    pod.env.erase("POD_NAMESPACE");
    EXPECT_EQ(pod.error(text),
              "POD_NAMESPACE is not set (set it from the downward API: fieldRef metadata.namespace)");
  }
  {
    FakePod pod;
    pod.env["POD_NAME"] = "";
    EXPECT_EQ(pod.error(text), "POD_NAME is empty (set it from the downward API: fieldRef metadata.name)");
  }
}

TEST(AgentStartupConfig, SecretsFromEnvironmentVariablesNeedNoFile) {
  // A pod that exposes its Secrets with env/valueFrom instead of volumes.
  FakePod pod;
  pod.files.erase(kSecrets + "/database/url");
  pod.files.erase(kSecrets + "/kafka-sasl/username");
  pod.files.erase(kSecrets + "/kafka-sasl/password");
  pod.env[outflow::agent::kDatabaseUrlEnv] = "postgres://env@db/orders";
  pod.env[outflow::agent::kSaslUsernameEnv] = "env-user";
  pod.env[outflow::agent::kSaslPasswordEnv] = "env-password";
  const auto config = pod.load(rendered(full_spec()));
  EXPECT_EQ(config.database_url, "postgres://env@db/orders");
  ASSERT_TRUE(config.kafka.sasl.has_value());
  EXPECT_EQ(config.kafka.sasl->username, "env-user");
  EXPECT_EQ(config.kafka.sasl->password, "env-password");
}

TEST(AgentStartupConfig, AnEnvironmentVariableTakesTheMountedFilesPlace) {
  FakePod pod;
  pod.env[outflow::agent::kDatabaseUrlEnv] = "postgres://override@db/orders";
  EXPECT_EQ(pod.load(rendered(example_spec("minimal.yaml"))).database_url, "postgres://override@db/orders");
  pod.env[outflow::agent::kDatabaseUrlEnv] = "";  // empty: as if unset, the file counts
  EXPECT_EQ(pod.load(rendered(example_spec("minimal.yaml"))).database_url, kDatabaseUrl);
}

TEST(AgentStartupConfig, APodOutsideThePipelinesNamespaceIsRefused) {
  FakePod pod;
  pod.env["POD_NAMESPACE"] = "billing";
  EXPECT_EQ(pod.error(rendered(example_spec("minimal.yaml"))),
            "POD_NAMESPACE: the pod runs in \"billing\" but serves a pipeline in \"shop\" (run the agent in "
            "its pipeline's namespace)");
}

TEST(AgentStartupConfig, InvalidSpecListsEveryProblemOnOneLineNamingTheFields) {
  auto config = workloads::agent_config(identity(), example_spec("minimal.yaml"));
  config["spec"]["kafka"]["bootstrapServers"] = nlohmann::json::array();
  config["spec"]["topics"][0]["partitions"] = 0;
  const auto message = FakePod{}.error(workloads::render_agent_config(config));
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.rfind("spec.kafka.bootstrapServers: ", 0), 0u) << message;
  EXPECT_NE(message.find("; spec.topics[0].partitions: "), std::string::npos) << message;
}

TEST(AgentStartupConfig, AllProblemsTogetherStillNeverShowASecret) {
  // Secret files exist and are read, while everything around them is wrong.
  auto config = workloads::agent_config(identity(), full_spec());
  config["pipeline"].erase("uid");
  config["files"].erase("kafkaClientKey");
  FakePod pod;
  pod.files.erase(kSecrets + "/kafka-ca/ca.crt");
  pod.env.erase("POD_NAMESPACE");
  const auto message = pod.error(workloads::render_agent_config(config));
  EXPECT_EQ(message,
            "pipeline.uid: required; "
            "files.kafkaCa: cannot read " + kSecrets + "/kafka-ca/ca.crt: No such file or directory; "
            "files.kafkaClientKey: required because spec.kafka.tls.clientCertSecretRef is set "
            "(render the config with outflow-operator); "
            "POD_NAMESPACE is not set (set it from the downward API: fieldRef metadata.namespace)");
  expect_no_secret(message);
}

TEST(AgentStartupConfig, OnlyOneTrailingNewlineIsTrimmed) {
  const auto text = rendered(example_spec("tls-scram.yaml"));
  FakePod pod;
  pod.files[kSecrets + "/kafka-sasl/username"] = "user\r\n";
  pod.files[kSecrets + "/kafka-sasl/password"] = "pass \n\n";
  pod.files[kSecrets + "/database/url"] = "postgres://db/orders";
  const auto config = pod.load(text);
  EXPECT_EQ(config.kafka.sasl->username, "user");
  EXPECT_EQ(config.kafka.sasl->password, "pass \n");
  EXPECT_EQ(config.database_url, "postgres://db/orders");
}

TEST(AgentStartupConfig, HandWrittenYamlIsAccepted) {
  const auto config = FakePod{}.load(R"(
pipeline: {namespace: shop, name: orders, uid: "1234"}
spec:
  kafka:
    bootstrapServers: [localhost:9092]
    sasl:
      mechanism: PLAIN
      secretRef: {name: kafka-creds}
  topics:
  - name: shop.orders
    partitions: 3
    replicationFactor: 1
  outbox:
    databaseSecretRef: {name: orders-db}
    defaultTopic: shop.orders
files:
  databaseUrl: /var/run/outflow/secrets/database/url
  saslUsername: /var/run/outflow/secrets/kafka-sasl/username
  saslPassword: /var/run/outflow/secrets/kafka-sasl/password
)");
  EXPECT_EQ(config.pipeline.uid, "1234");
  EXPECT_EQ(config.spec.topics.at(0).partitions, 3);
  ASSERT_TRUE(config.kafka.sasl);
  EXPECT_EQ(config.kafka.sasl->mechanism, outflow::kafka::SaslMechanism::Plain);
  EXPECT_EQ(config.kafka.sasl->password, kSaslPassword);
}

TEST(AgentStartupConfig, MalformedOrIncompleteDocumentsAreRejected) {
  const FakePod pod;
  EXPECT_EQ(pod.error("{\"pipeline\": [").rfind("config: not valid JSON or YAML: ", 0), 0u);
  EXPECT_EQ(pod.error(""), "config: empty (expected the document outflow-operator renders: pipeline, spec, files)");
  EXPECT_EQ(pod.error("a: 1\n---\nb: 2\n"), "config: holds 2 documents, expected one");
  EXPECT_EQ(pod.error("- just\n- a list\n"), "config: must be a mapping with pipeline, spec and files");
  EXPECT_EQ(pod.error("pipeline: 3\n"),
            "pipeline: must be a mapping; spec: required (render the config with outflow-operator); "
            "files: required (render the config with outflow-operator)");
}

TEST(AgentStartupConfig, RealFileSystemAndEnvironment) {
  try {
    outflow::agent::read_file_from_disk("/nonexistent/outflow/secret");
    ADD_FAILURE() << "reading a missing file succeeded";
  } catch (const FileReadError& e) {
    EXPECT_STREQ(e.what(), "No such file or directory");
  }
  EXPECT_THROW(outflow::agent::read_file_from_disk("/"), FileReadError);  // a directory
  EXPECT_FALSE(outflow::agent::process_environment("OUTFLOW_TEST_SURELY_UNSET_VARIABLE"));
  try {
    load_agent_config(std::filesystem::path("/nonexistent/agent.yaml"));
    ADD_FAILURE() << "loading a missing config file succeeded";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "--config: cannot read /nonexistent/agent.yaml: No such file or directory");
  }
}

TEST(AgentStartupConfig, RealFileReaderReadsTheSourceTree) {
  // A file that is always there, read through the same function the agent uses.
  const auto text = outflow::agent::read_file_from_disk(std::string(OUTFLOW_SOURCE_DIR) + "/crds/examples/minimal.yaml");
  EXPECT_NE(text.find("bootstrapServers"), std::string::npos);
}

TEST(AgentStartupConfig, ADatabaseUrlLibpqCannotReadNamesTheSecretKeyNotItsContent) {
  const auto spec = example_spec("minimal.yaml");
  const auto text = rendered(spec);
  const std::string secret_ref =
      "spec.outbox.databaseSecretRef (Secret \"" + spec.outbox.database.name + "\", key \"" + spec.outbox.database.key + "\")";
  // A raw % in the password, a port that is no number, one out of range.
  for (const std::string url : {"postgres://app:db-s3cret%zz@db.shop:5432/orders",
                                "postgres://app:db-s3cret@db.shop:54x2/orders",
                                "postgres://app:db-s3cret@db.shop:99999/orders",
                                "postgres://app:db-s3cret@[::1/orders"}) {
    SCOPED_TRACE(url);
    FakePod pod;
    pod.files[kSecrets + "/database/url"] = url + "\n";
    const auto message = pod.error(text);
    EXPECT_EQ(message.rfind("files.databaseUrl: the database URL in " + secret_ref + " is not valid", 0), 0u)
        << message;
    expect_no_secret(message);
    EXPECT_EQ(message.find("db.shop"), std::string::npos) << message;
    EXPECT_EQ(message.find("54x2"), std::string::npos) << message;
    EXPECT_EQ(message.find("99999"), std::string::npos) << message;
  }
  // The same check when the URL comes from the environment, named as such.
  FakePod pod;
  pod.env[outflow::agent::kDatabaseUrlEnv] = "postgres://app:db-s3cret%@db.shop/orders";
  const auto message = pod.error(text);
  EXPECT_EQ(message.rfind(std::string(outflow::agent::kDatabaseUrlEnv) + ": the database URL is not valid", 0), 0u)
      << message;
  expect_no_secret(message);
}

TEST(AgentStartupConfig, ValidDatabaseUrlsInEitherFormPassTheCheck) {
  FakePod pod;
  for (const std::string url : {"postgres://app:p%25ss@db.shop:5432/orders?sslmode=require",
                                "postgresql://db1:5432,db2:5433/orders?target_session_attrs=read-write",
                                "host=db.shop port=5432 dbname=orders user=app password=x"}) {
    pod.files[kSecrets + "/database/url"] = url;
    EXPECT_EQ(pod.load(rendered(example_spec("minimal.yaml"))).database_url, url);
  }
}
