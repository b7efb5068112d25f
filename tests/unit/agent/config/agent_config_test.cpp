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
  std::string host = "laptop";

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
        },
        [this] { return host; });
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

std::string text_of(const nlohmann::json& config) { return workloads::render_agent_config(config); }

// Every optional Kafka file in one spec: TLS with CA, mutual TLS and SASL.
pipeline::PipelineSpec full_spec() {
  auto spec = example_spec("tls-scram.yaml");
  spec.kafka.tls->client_cert_secret = "payments-kafka-tls";
  return spec;
}

// The part of an EventPipeline spec the agent reads, i.e. what an AgentConfig
// carries: Secret references, topic layouts, agent, alerts and the operator's
// other settings back at their AgentConfig values.
pipeline::PipelineSpec agent_part(pipeline::PipelineSpec spec) {
  if (spec.kafka.tls) spec.kafka.tls = pipeline::TlsSpec{};
  if (spec.kafka.sasl) {
    pipeline::SaslSpec sasl;
    sasl.mechanism = spec.kafka.sasl->mechanism;
    sasl.secret_name.clear();
    spec.kafka.sasl = sasl;
  }
  for (auto& t : spec.topics) {
    pipeline::TopicSpec named;
    named.name = t.name;
    named.partitions = 0;
    named.replication_factor = 0;
    t = named;
  }
  if (spec.dead_letter) {
    pipeline::DeadLetterSpec d;
    d.topic = spec.dead_letter->topic;
    d.max_attempts = spec.dead_letter->max_attempts;
    d.backoff = spec.dead_letter->backoff;
    spec.dead_letter = d;
  }
  spec.outbox.database = pipeline::SecretKeyRef{"", "url"};
  spec.agent = {};
  spec.alerts = {};
  spec.topic_deletion_policy = pipeline::TopicDeletionPolicy::Retain;
  spec.paused = false;
  return spec;
}

const char* kHandWritten = R"(
apiVersion: outflow.dev/v1alpha1
kind: AgentConfig
metadata:
  name: orders
kafka:
  bootstrapServers: [localhost:9092]
  sasl:
    mechanism: PLAIN
    username: {env: KAFKA_USER}
    password: {file: /run/secrets/kafka-password}
topics:
- name: shop.orders
outbox:
  databaseUrl: {env: DATABASE_URL}
  defaultTopic: shop.orders
)";

// kHandWritten's environment and files, outside any pod.
FakePod laptop() {
  FakePod pod;
  pod.env = {{"KAFKA_USER", "alice"}, {"DATABASE_URL", "postgres://app@localhost/shop"}};
  pod.files = {{"/run/secrets/kafka-password", "pw\n"}};
  return pod;
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
  EXPECT_EQ(config.pipeline, (outflow::agent::PipelineRef{"shop", "orders", ""}));
  EXPECT_EQ(config.status, (outflow::agent::PipelineRef{"shop", "orders", identity().uid}));
  EXPECT_EQ(config.spec, agent_part(spec));
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
  EXPECT_EQ(config.spec, agent_part(spec));
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

TEST(AgentStartupConfig, EachMissingSecretFileIsNamedWithItsField) {
  const auto text = rendered(full_spec());
  const std::map<std::string, std::string> file_of_field{
      {"outbox.databaseUrl.file", kSecrets + "/database/url"},
      {"kafka.tls.caFile", kSecrets + "/kafka-ca/ca.crt"},
      {"kafka.tls.certFile", kSecrets + "/kafka-client-cert/tls.crt"},
      {"kafka.tls.keyFile", kSecrets + "/kafka-client-cert/tls.key"},
      {"kafka.sasl.username.file", kSecrets + "/kafka-sasl/username"},
      {"kafka.sasl.password.file", kSecrets + "/kafka-sasl/password"},
  };
  for (const auto& [field, path] : file_of_field) {
    SCOPED_TRACE(field);
    FakePod pod;
    ASSERT_EQ(pod.files.erase(path), 1u);
    const auto message = pod.error(text);
    EXPECT_EQ(message, field + ": cannot read " + path + ": No such file or directory");
    expect_no_secret(message);
  }
}

TEST(AgentStartupConfig, ASecretTheSectionsNeedButTheConfigDoesNotNameIsReported) {
  auto config = workloads::agent_config(identity(), full_spec());
  config["kafka"]["tls"].erase("keyFile");
  config["kafka"]["sasl"].erase("password");
  config["outbox"]["databaseUrl"] = {{"file", "/a"}, {"env", "B"}};
  EXPECT_EQ(FakePod{}.error(text_of(config)),
            "outbox.databaseUrl: set exactly one of file and env; "
            "kafka.tls.keyFile: required with certFile (mutual TLS needs both); "
            "kafka.sasl.password: is required: {file: <path>} or {env: <VARIABLE>}");
}

TEST(AgentStartupConfig, EmptySecretFilesAreRejected) {
  FakePod pod;
  pod.files[kSecrets + "/kafka-sasl/password"] = "\n";
  EXPECT_EQ(pod.error(rendered(full_spec())),
            "kafka.sasl.password.file: " + kSecrets + "/kafka-sasl/password is empty (check the Secret's key)");
}

TEST(AgentStartupConfig, WithoutPodNameTheHostNameIsTheIdentity) {
  const auto text = rendered(example_spec("minimal.yaml"));
  FakePod pod;
  pod.env.erase("POD_NAME");
  pod.env.erase("POD_NAMESPACE");
  const auto config = pod.load(text);
  EXPECT_EQ(config.pod_name, "laptop");
  EXPECT_EQ(config.pod_namespace, "");
  pod.env["POD_NAME"] = "";
  EXPECT_EQ(pod.load(text).pod_name, "laptop");
  pod.host = "";
  EXPECT_EQ(pod.error(text), "POD_NAME: not set and the host name is unknown (set POD_NAME)");
}

TEST(AgentStartupConfig, AHandWrittenConfigNeedsNoKubernetes) {
  const auto config = laptop().load(kHandWritten);
  EXPECT_EQ(config.pipeline, (outflow::agent::PipelineRef{"default", "orders", ""}));
  EXPECT_FALSE(config.status);
  EXPECT_EQ(config.pod_name, "laptop");
  EXPECT_EQ(config.database_url, "postgres://app@localhost/shop");
  ASSERT_TRUE(config.kafka.sasl);
  EXPECT_EQ(config.kafka.sasl->mechanism, outflow::kafka::SaslMechanism::Plain);
  EXPECT_EQ(config.kafka.sasl->username, "alice");
  EXPECT_EQ(config.kafka.sasl->password, "pw");
  ASSERT_EQ(config.spec.topics.size(), 1u);
  EXPECT_EQ(config.spec.topics[0].name, "shop.orders");
  EXPECT_EQ(config.spec.topics[0].partitions, 0);  // not stated
  EXPECT_EQ(config.spec.outbox.table, "outbox");    // the EventPipeline's defaults
  EXPECT_EQ(config.spec.outbox.batch_size, 500);
  EXPECT_EQ(config.spec.circuit_breaker, pipeline::BreakerSpec{});
}

TEST(AgentStartupConfig, AStatusSectionNamesThePipelineToReportInto) {
  const auto pod = laptop();
  const auto config =
      pod.load(std::string(kHandWritten) + "status:\n  eventPipeline: {name: orders-pipeline, namespace: shop}\n");
  EXPECT_EQ(config.status, (outflow::agent::PipelineRef{"shop", "orders-pipeline", ""}));
  const auto defaulted = pod.load(std::string(kHandWritten) + "status:\n  eventPipeline: {name: p}\n");
  EXPECT_EQ(defaulted.status, (outflow::agent::PipelineRef{"default", "p", ""}));
  EXPECT_EQ(pod.error(std::string(kHandWritten) + "status: {}\n"),
            "status.eventPipeline: required, a mapping with name (and namespace)");
}

TEST(AgentStartupConfig, AnEnvironmentVariableSourceThatIsUnsetOrEmptyIsNamed) {
  auto pod = laptop();
  pod.env.erase("DATABASE_URL");
  pod.env["KAFKA_USER"] = "";
  EXPECT_EQ(pod.error(kHandWritten),
            "outbox.databaseUrl.env: the environment variable DATABASE_URL is not set; "
            "kafka.sasl.username.env: the environment variable KAFKA_USER is empty");
}

TEST(AgentStartupConfig, UnknownFieldsAreRefusedWithTheirPath) {
  const std::string text = std::string(kHandWritten) + R"(
deadLetter: {topic: shop.dlq, backoff: {initial: 5}}
circuitBreaker: {failureRate: 50}
spec: {}
)";
  auto with_typos = outflow::kube::parse_yaml_documents(text).at(0);
  with_typos["metadata"]["labels"] = {{"a", "b"}};
  with_typos["kafka"]["bootstrapServer"] = "x:1";
  with_typos["topics"][0]["partition"] = 3;
  with_typos["outbox"]["colums"] = {{"id", "id"}};
  with_typos["outbox"]["databaseUrl"]["path"] = "/x";
  const auto message = laptop().error(text_of(with_typos));
  for (const char* expected : {
           "spec: unknown field (expected one of: apiVersion, kind, metadata, kafka, topics, outbox, deadLetter, "
           "circuitBreaker, status)",
       }) {
    EXPECT_NE(message.find(expected), std::string::npos) << expected << "\n in: " << message;
  }
  with_typos.erase("spec");
  const auto sections = laptop().error(text_of(with_typos));
  for (const char* expected : {
           "metadata.labels: unknown field (expected one of: name, namespace)",
           "kafka.bootstrapServer: unknown field (expected one of: bootstrapServers, tls, sasl, connectTimeoutMs, "
           "requestTimeoutMs)",
           "topics[0].partition: unknown field (expected one of: name, partitions, replicationFactor, config)",
           "outbox.colums: unknown field",
           "deadLetter.backoff.initial: unknown field (expected one of: initialMs, multiplier, maxMs)",
           "circuitBreaker.failureRate: unknown field",
           "outbox.databaseUrl.path: unknown field (expected one of: file, env)",
       }) {
    EXPECT_NE(sections.find(expected), std::string::npos) << expected << "\n in: " << sections;
  }
}

TEST(AgentStartupConfig, TheOldRenderingAndOtherKindsAreRefused) {
  const FakePod pod;
  EXPECT_EQ(pod.error("pipeline: {namespace: a, name: b, uid: c}\nspec: {}\nfiles: {}\n"),
            "config: this is the old rendering (pipeline, spec, files); upgrade the operator so it renders kind: "
            "AgentConfig");
  EXPECT_EQ(pod.error("apiVersion: outflow.dev/v1\nkind: EventPipeline\n"),
            "apiVersion: \"outflow.dev/v1\" is not supported (use outflow.dev/v1alpha1); "
            "kind: \"EventPipeline\" is not supported (use AgentConfig)");
  EXPECT_EQ(pod.error("kafka: {}\n"), "apiVersion: is required; kind: is required");
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
            "POD_NAMESPACE: the pod runs in \"billing\" but reports into a pipeline in \"shop\" (run the agent "
            "in its pipeline's namespace)");
}

TEST(AgentStartupConfig, InvalidSectionsListEveryProblemOnOneLineNamingTheFields) {
  auto config = workloads::agent_config(identity(), example_spec("minimal.yaml"));
  config["kafka"]["bootstrapServers"] = nlohmann::json::array();
  config["topics"][0]["partitions"] = 0;
  const auto message = FakePod{}.error(text_of(config));
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.rfind("kafka.bootstrapServers: at least one host:port is required; ", 0), 0u) << message;
  EXPECT_NE(message.find("; topics[0].partitions: must be between 1 and 10000, got 0"), std::string::npos)
      << message;
}

TEST(AgentStartupConfig, AllProblemsTogetherStillNeverShowASecret) {
  // Secret files exist and are read, while everything around them is wrong.
  auto config = workloads::agent_config(identity(), full_spec());
  config["metadata"].erase("name");
  config["kafka"]["tls"].erase("keyFile");
  FakePod pod;
  pod.files.erase(kSecrets + "/kafka-ca/ca.crt");
  pod.env["POD_NAMESPACE"] = "elsewhere";
  const auto message = pod.error(text_of(config));
  EXPECT_EQ(message,
            "metadata.name: is required; "
            "kafka.tls.caFile: cannot read " + kSecrets + "/kafka-ca/ca.crt: No such file or directory; "
            "kafka.tls.keyFile: required with certFile (mutual TLS needs both); "
            "POD_NAMESPACE: the pod runs in \"elsewhere\" but reports into a pipeline in \"shop\" (run the agent "
            "in its pipeline's namespace)");
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

TEST(AgentStartupConfig, MalformedOrIncompleteDocumentsAreRejected) {
  const FakePod pod;
  EXPECT_EQ(pod.error("{\"pipeline\": [").rfind("config: not valid JSON or YAML: ", 0), 0u);
  EXPECT_EQ(pod.error(""), "config: empty (expected apiVersion: outflow.dev/v1alpha1, kind: AgentConfig)");
  EXPECT_EQ(pod.error("a: 1\n---\nb: 2\n"), "config: holds 2 documents, expected one");
  EXPECT_EQ(pod.error("- just\n- a list\n"),
            "config: must be a mapping (apiVersion: outflow.dev/v1alpha1, kind: AgentConfig, metadata, kafka, ...)");
  EXPECT_EQ(pod.error("apiVersion: outflow.dev/v1alpha1\nkind: AgentConfig\n"),
            "metadata.name: is required (it names the dead-letter consumer group and the metrics); "
            "kafka: is required; topics: declare at least one topic; outbox: is required; "
            "outbox.databaseUrl: is required: {file: <path>} or {env: <VARIABLE>}");
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

TEST(AgentStartupConfig, ADatabaseUrlLibpqCannotReadNamesItsSourceNotItsContent) {
  const auto spec = example_spec("minimal.yaml");
  const auto text = rendered(spec);
  // A raw % in the password, a port that is no number, one out of range.
  for (const std::string url : {"postgres://app:db-s3cret%zz@db.shop:5432/orders",
                                "postgres://app:db-s3cret@db.shop:54x2/orders",
                                "postgres://app:db-s3cret@db.shop:99999/orders",
                                "postgres://app:db-s3cret@[::1/orders"}) {
    SCOPED_TRACE(url);
    FakePod pod;
    pod.files[kSecrets + "/database/url"] = url + "\n";
    const auto message = pod.error(text);
    EXPECT_EQ(message.rfind("outbox.databaseUrl: the database URL in " + kSecrets + "/database/url is not valid", 0),
              0u)
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
