#include "common/pipeline/spec.h"

#include "common/kube/yaml_json.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace outflow::pipeline;
using nlohmann::json;

namespace {

json spec_of(const std::string& yaml) { return outflow::kube::parse_yaml_documents(yaml).at(0); }

json example_spec(const std::string& file) {
  std::ifstream in(std::string(OUTFLOW_SOURCE_DIR) + "/crds/examples/" + file);
  std::ostringstream text;
  text << in.rdbuf();
  return outflow::kube::parse_yaml_documents(text.str()).at(0).at("spec");
}

const char* kMinimal = R"(
kafka: {bootstrapServers: ["k:9092"]}
topics: [{name: t, partitions: 3, replicationFactor: 1}]
outbox: {databaseSecretRef: {name: db}, defaultTopic: t}
)";

// The problems reported for a spec, or an empty list when it parses.
std::vector<std::string> problems_of(const json& spec) {
  try {
    parse_spec(spec);
  } catch (const SpecError& e) {
    return e.problems();
  }
  return {};
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems) {
    if (p.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST(PipelineSpec, MinimalSpecGetsTheCrdDefaults) {
  const auto s = parse_spec(spec_of(kMinimal));
  EXPECT_EQ(s.kafka.bootstrap_servers, std::vector<std::string>{"k:9092"});
  EXPECT_FALSE(s.kafka.tls);
  EXPECT_FALSE(s.kafka.sasl);
  EXPECT_EQ(s.outbox.database, (SecretKeyRef{"db", "url"}));
  EXPECT_EQ(s.outbox.table, "outbox");
  EXPECT_EQ(s.outbox.columns.event_id, "event_id");
  EXPECT_EQ(s.outbox.batch_size, 500);
  EXPECT_EQ(s.circuit_breaker.window_size, 100);
  EXPECT_EQ(s.agent.replicas, 2);
  EXPECT_TRUE(s.alerts.defaults);
  EXPECT_EQ(s.topic_deletion_policy, TopicDeletionPolicy::Retain);
  EXPECT_FALSE(s.dead_letter);
  EXPECT_FALSE(s.paused);
}

TEST(PipelineSpec, EveryShippedExampleParses) {
  for (const auto& entry : std::filesystem::directory_iterator(std::string(OUTFLOW_SOURCE_DIR) + "/crds/examples")) {
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW(parse_spec(example_spec(entry.path().filename().string())));
  }
}

TEST(PipelineSpec, TlsAndScramExampleCarriesSecretReferences) {
  const auto s = parse_spec(example_spec("tls-scram.yaml"));
  ASSERT_TRUE(s.kafka.tls);
  EXPECT_EQ(s.kafka.tls->ca, (SecretKeyRef{"kafka-ca", "ca.crt"}));
  ASSERT_TRUE(s.kafka.sasl);
  EXPECT_EQ(s.kafka.sasl->mechanism, outflow::kafka::SaslMechanism::ScramSha512);
  EXPECT_EQ(s.kafka.sasl->secret_name, "payments-kafka");
  EXPECT_EQ(s.topics.at(0).config.at("compression.type"), "zstd");
  EXPECT_EQ(s.outbox.table, "billing.outbox");
}

TEST(PipelineSpec, DeadLetterExampleHasLadderAndAlerts) {
  const auto s = parse_spec(example_spec("dead-letter-alerts.yaml"));
  ASSERT_TRUE(s.dead_letter);
  EXPECT_EQ(s.dead_letter->topic, "shipping.dispatched.dlq");
  EXPECT_EQ(s.dead_letter->backoff, (BackoffSpec{1000, 2, 600000}));
  EXPECT_EQ(s.topic_deletion_policy, TopicDeletionPolicy::Delete);
  ASSERT_EQ(s.alerts.rules.size(), 1u);
  EXPECT_EQ(s.alerts.rules[0].for_duration, "5m");
  EXPECT_EQ(s.alerts.rules[0].severity, "critical");
  EXPECT_EQ(s.alerts.labels.at("release"), "prometheus");
}

TEST(PipelineSpec, DisabledTlsMeansPlaintext) {
  auto j = spec_of(kMinimal);
  j["kafka"]["tls"] = {{"enabled", false}, {"caSecretRef", {{"name", "ca"}}}};
  EXPECT_FALSE(parse_spec(j).kafka.tls);
}

TEST(PipelineSpec, EveryProblemIsReportedWithItsField) {
  const auto problems = problems_of(spec_of(R"(
kafka: {bootstrapServers: ["no-port"], sasl: {mechanism: GSSAPI}}
topics:
- {name: "bad name", partitions: 0, replicationFactor: 1}
- {name: dup, partitions: 1, replicationFactor: 1}
- {name: dup, partitions: 1, replicationFactor: 1, config: {retention.ms: 1000}}
outbox: {databaseSecretRef: {name: db}, defaultTopic: missing, table: "Drop Table"}
circuitBreaker: {minimumCalls: 500, windowSize: 100}
topicDeletionPolicy: Sometimes
)"));
  EXPECT_TRUE(mentions(problems, "spec.kafka.bootstrapServers[0]: must be host:port"));
  EXPECT_TRUE(mentions(problems, "spec.kafka.sasl.mechanism"));
  EXPECT_TRUE(mentions(problems, "spec.kafka.sasl.secretRef: is required"));
  EXPECT_TRUE(mentions(problems, "spec.topics[0].name: \"bad name\" is not a valid Kafka topic name"));
  EXPECT_TRUE(mentions(problems, "spec.topics[0].partitions: must be between 1 and 10000, got 0"));
  EXPECT_TRUE(mentions(problems, "spec.topics[2].name: \"dup\" is declared twice"));
  EXPECT_TRUE(mentions(problems, "spec.topics[2].config.retention.ms: must be a string"));
  EXPECT_TRUE(mentions(problems, "spec.outbox.defaultTopic: \"missing\" is not one of spec.topics"));
  EXPECT_TRUE(mentions(problems, "spec.outbox.table"));
  EXPECT_TRUE(mentions(problems, "spec.circuitBreaker.minimumCalls: cannot exceed windowSize"));
  EXPECT_TRUE(mentions(problems, "spec.topicDeletionPolicy"));
  EXPECT_EQ(problems.size(), 11u) << ::testing::PrintToString(problems);
}

TEST(PipelineSpec, MissingRequiredSectionsAreNamed) {
  const auto problems = problems_of(json::object());
  EXPECT_TRUE(mentions(problems, "spec.kafka: is required"));
  EXPECT_TRUE(mentions(problems, "spec.topics: declare at least one topic"));
  EXPECT_TRUE(mentions(problems, "spec.outbox: is required"));
}

TEST(PipelineSpec, DeadLetterTopicsMayNotBeListedByHand) {
  auto j = spec_of(kMinimal);
  j["deadLetter"] = {{"topic", "t.dlq"}};
  j["topics"].push_back({{"name", "t.dlq.retry.1"}, {"partitions", 1}, {"replicationFactor", 1}});
  EXPECT_TRUE(mentions(problems_of(j), "\"t.dlq.retry.1\" belongs to spec.deadLetter"));
}

TEST(PipelineSpec, BackoffCeilingBelowInitialIsRejected) {
  auto j = spec_of(kMinimal);
  j["deadLetter"] = {{"topic", "t.dlq"}, {"backoff", {{"initialMs", 5000}, {"maxMs", 1000}}}};
  EXPECT_TRUE(mentions(problems_of(j), "spec.deadLetter.backoff.maxMs: must be at least initialMs"));
}

TEST(PipelineSpec, ToJsonRoundTripsEveryExample) {
  for (const char* file : {"minimal.yaml", "tls-scram.yaml", "dead-letter-alerts.yaml"}) {
    SCOPED_TRACE(file);
    const auto parsed = parse_spec(example_spec(file));
    EXPECT_EQ(parse_spec(to_json(parsed)), parsed);
  }
}

// The CRD's apply-time rules, repeated for objects stored before them and for
// a hand-written agent config.
TEST(PipelineSpec, KafkaInternalTopicNamesAreRefused) {
  auto spec = spec_of(kMinimal);
  spec["topics"].push_back({{"name", "__consumer_offsets"}, {"partitions", 50}, {"replicationFactor", 1}});
  spec["deadLetter"] = {{"topic", "__t.dlq"}};
  const auto problems = problems_of(spec);
  EXPECT_TRUE(mentions(problems, "spec.topics[1].name: \"__consumer_offsets\" starts with '__'")) << problems.size();
  EXPECT_TRUE(mentions(problems, "spec.deadLetter.topic: \"__t.dlq\" starts with '__'"));
}

TEST(PipelineSpec, TopicsThatCollideInKafkaMetricNamesAreRefused) {
  auto spec = spec_of(kMinimal);
  spec["topics"] = json::array({{{"name", "shop.orders"}, {"partitions", 1}, {"replicationFactor", 1}},
                                {{"name", "shop_orders"}, {"partitions", 1}, {"replicationFactor", 1}},
                                {{"name", "t"}, {"partitions", 1}, {"replicationFactor", 1}}});
  const auto problems = problems_of(spec);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(mentions(problems, "spec.topics[1].name: \"shop_orders\" collides with \"shop.orders\""));
}

TEST(PipelineSpec, OutboxColumnsMappedToTheSameColumnAreRefused) {
  auto spec = spec_of(kMinimal);
  spec["outbox"]["columns"] = {{"id", "key"}};
  const auto problems = problems_of(spec);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(mentions(problems, "spec.outbox.columns.key: \"key\" is also the column of id"));

  spec["outbox"]["columns"] = {{"id", "row_id"}, {"key", "id"}};
  EXPECT_TRUE(problems_of(spec).empty()) << "a swap of names is fine as long as each is used once";
}

TEST(PipelineSpec, BootstrapPortsOutOfRangeAreRefused) {
  auto spec = spec_of(kMinimal);
  spec["kafka"]["bootstrapServers"] = json::array({"k:99092", "k:0", "[::1]:65535"});
  const auto problems = problems_of(spec);
  EXPECT_EQ(problems.size(), 2u);
  EXPECT_TRUE(mentions(problems, "spec.kafka.bootstrapServers[0]: port must be between 1 and 65535"));
  EXPECT_TRUE(mentions(problems, "spec.kafka.bootstrapServers[1]: port must be between 1 and 65535"));
}
