// Issue 14 points 3 and 4: `outflow-agent check` against good and broken
// set-ups (each failure's exact line), and `outflow-agent topics apply`
// against the real broker, both run as the binary with a hand-written
// AgentConfig and no Kubernetes.

#include "agent/agent_fixture.h"
#include "common/kafka/admin.h"
#include "testenv.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

namespace outflow::agent_tests {
namespace {

// OUTFLOW_AGENT_BIN in the environment runs these against another build (as
// AgentProcess does), e.g. the last release, to see them fail there.
std::string agent_binary() {
  const char* other = std::getenv("OUTFLOW_AGENT_BIN");
  return other != nullptr && *other != '\0' ? other : OUTFLOW_AGENT_BIN;
}

struct CommandResult {
  int code = -1;
  std::string out;
};

class AgentCommandsTest : public ::testing::Test {
 protected:
  AgentCommandsTest() : dir_(testenv::unique_name("/tmp/outflow-commands")) { std::filesystem::create_directories(dir_); }
  ~AgentCommandsTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // A config as a user writes it, with `kafka` and `topics` sections given;
  // rows go to `default_topic`.
  std::string config(const std::string& kafka, const std::string& topics, const std::string& default_topic,
                     const std::string& table, const std::string& extra = {}) const {
    return "apiVersion: outflow.dev/v1alpha1\nkind: AgentConfig\nmetadata: {name: orders}\n" + kafka + topics +
           "outbox:\n  databaseUrl: {env: SHOP_DATABASE_URL}\n  table: " + table + "\n  defaultTopic: " +
           default_topic + "\n" + extra;
  }
  std::string plaintext() const {
    return "kafka:\n  bootstrapServers: [" + testenv::require("OUTFLOW_TEST_KAFKA_PLAINTEXT") +
           "]\n  connectTimeoutMs: 3000\n  requestTimeoutMs: 5000\n";
  }

  // The ACL listener as its limited user (SCRAM-SHA-256, password from the
  // environment): the principal has only what a test grants it.
  std::string limited() const {
    return "kafka:\n  bootstrapServers: [" + testenv::require("OUTFLOW_TEST_KAFKA_ACL") +
           "]\n  connectTimeoutMs: 3000\n  requestTimeoutMs: 5000\n"
           "  sasl: {mechanism: SCRAM-SHA-256, username: {env: KAFKA_USERNAME}, password: {env: KAFKA_PASSWORD}}\n";
  }

  CommandResult run(const std::vector<std::string>& args, const std::string& text,
          const std::string& database_url = testenv::require("OUTFLOW_TEST_PG_URL")) {
    const auto path = dir_ + "/agent.yaml";
    std::ofstream(path) << text;
    std::vector<std::string> argv{agent_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--config=" + path);
    testenv::ChildProcess process(argv, {{"SHOP_DATABASE_URL", database_url},
                                         {"KAFKA_USERNAME", testenv::require("OUTFLOW_TEST_KAFKA_ACL_USER")},
                                         {"KAFKA_PASSWORD", testenv::require("OUTFLOW_TEST_KAFKA_ACL_PASSWORD")}});
    EXPECT_TRUE(eventually([&] { return !process.running(); }, 60s));
    const int code = process.terminate();
    return {code, process.log()};
  }

  std::map<std::string, kafka::DescribedTopic> describe(const std::vector<std::string>& names) {
    auto client = kafka::make_client(RD_KAFKA_PRODUCER,
                                     kafka::make_conf(kafka::client_properties(testenv::plaintext_kafka())));
    return kafka::describe_topics(client.get(), names, 10s);
  }

  testenv::OutboxDb db_;
  std::string dir_;
};

// Allows the ACL listener's user `operations` on `topic`, through PLAINTEXT
// (a super user), and returns once the broker's authorizer applies them.
void grant(const std::string& topic, const std::vector<rd_kafka_AclOperation_t>& operations) {
  const auto principal = "User:" + testenv::require("OUTFLOW_TEST_KAFKA_ACL_USER");
  auto client = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf(kafka::client_properties(testenv::plaintext_kafka())));
  kafka::QueueHandle queue(rd_kafka_queue_new(client.get()));
  std::array<char, 256> error{};
  std::vector<std::unique_ptr<rd_kafka_AclBinding_t, decltype(&rd_kafka_AclBinding_destroy)>> owned;
  std::vector<rd_kafka_AclBinding_t*> bindings;
  for (const auto operation : operations) {
    owned.emplace_back(rd_kafka_AclBinding_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str(), RD_KAFKA_RESOURCE_PATTERN_LITERAL,
                                               principal.c_str(), "*", operation, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW,
                                               error.data(), error.size()),
                       &rd_kafka_AclBinding_destroy);
    ASSERT_TRUE(owned.back()) << error.data();
    bindings.push_back(owned.back().get());
  }
  rd_kafka_CreateAcls(client.get(), bindings.data(), bindings.size(), nullptr, queue.get());
  kafka::EventHandle created(rd_kafka_queue_poll(queue.get(), 30000));
  ASSERT_TRUE(created);
  ASSERT_EQ(rd_kafka_event_error(created.get()), RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_event_error_string(created.get());
  size_t count = 0;
  const auto* results = rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(created.get()), &count);
  for (size_t i = 0; i < count; ++i) {
    const auto* e = rd_kafka_acl_result_error(results[i]);
    ASSERT_EQ(rd_kafka_error_code(e), RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_error_string(e);
  }
  // DescribeAcls answers from the (only) broker's authorizer: once it lists
  // them, they are in force there.
  const auto visible = [&] {
    std::unique_ptr<rd_kafka_AclBindingFilter_t, decltype(&rd_kafka_AclBinding_destroy)> filter(
        rd_kafka_AclBindingFilter_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str(), RD_KAFKA_RESOURCE_PATTERN_LITERAL,
                                      principal.c_str(), nullptr, RD_KAFKA_ACL_OPERATION_ANY,
                                      RD_KAFKA_ACL_PERMISSION_TYPE_ANY, error.data(), error.size()),
        &rd_kafka_AclBinding_destroy);
    rd_kafka_DescribeAcls(client.get(), filter.get(), nullptr, queue.get());
    kafka::EventHandle described(rd_kafka_queue_poll(queue.get(), 30000));
    if (!described || rd_kafka_event_error(described.get())) return false;
    size_t found = 0;
    rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(described.get()), &found);
    return found == operations.size();
  };
  ASSERT_TRUE(eventually(visible, 30s)) << "the ACLs on " << topic << " never became visible";
}

// The end offset of a topic's partition 0 (over PLAINTEXT): check must write nothing.
std::int64_t end_offset(const std::string& topic) {
  auto client = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf(kafka::client_properties(testenv::plaintext_kafka())));
  std::int64_t low = -1, high = -1;
  const auto err = rd_kafka_query_watermark_offsets(client.get(), topic.c_str(), 0, &low, &high, 10000);
  EXPECT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
  return high;
}

bool has_line(const std::string& out, const std::string& line) {
  return out.find(line + "\n") != std::string::npos;
}

TEST_F(AgentCommandsTest, CheckPassesOnAGoodSetUp) {
  const auto topic = testenv::create_topic(2);
  const auto r = run({"check"}, config(plaintext(), "topics: [{name: " + topic + "}]\n", topic, db_.table()));
  EXPECT_EQ(r.code, 0) << r.out;
  const auto table = db_.table();
  for (const auto& line : {
           std::string("  ok    postgres: connected"),
           fmt::format("  ok    outbox table: {} exists", table),
           fmt::format("  ok    outbox columns: {} has the 10 columns the agent uses", table),
           std::string("  ok    notify trigger: installed"),
           std::string("  ok    table privileges: SELECT, UPDATE, DELETE granted"),
           std::string("  ok    advisory locks: the role may take them"),
           fmt::format("  ok    topic {}: exists, 2 partitions", topic),
           std::string("  ok    access: User:ANONYMOUS has every permission the agent needs on the 1 topic"),
           std::string("verdict: ready, every check passed"),
       }) {
    EXPECT_TRUE(has_line(r.out, line)) << line << "\n in:\n" << r.out;
  }
  EXPECT_TRUE(std::regex_search(r.out, std::regex("  ok    kafka: connected to 127\\.0\\.0\\.1:[0-9]+ \\(cluster .+\\)\n")))
      << r.out;
}

TEST_F(AgentCommandsTest, CheckNamesAMissingTableAndAMissingTopic) {
  const auto missing_topic = testenv::unique_name("never-created");
  const auto missing_table = db_.schema() + ".no_outbox";
  const auto r = run({"check"}, config(plaintext(), "topics: [{name: " + missing_topic + "}]\n", missing_topic, missing_table));
  EXPECT_EQ(r.code, 2) << r.out;
  for (const auto& line : {
           fmt::format("  FAIL  outbox table: {} does not exist (run hack/sql/outbox.sql in this database, or set "
                       "outbox.table)",
                       missing_table),
           std::string("  skip  outbox columns: needs the outbox table"),
           std::string("  skip  notify trigger: needs the outbox table"),
           fmt::format("  FAIL  topic {}: does not exist (create it: outflow-agent topics apply --config <file>, or "
                       "ask your Kafka administrators)",
                       missing_topic),
           std::string("verdict: NOT READY, 2 checks failed"),
       }) {
    EXPECT_TRUE(has_line(r.out, line)) << line << "\n in:\n" << r.out;
  }
  EXPECT_TRUE(describe({missing_topic}).empty()) << "check must not create the topic it looked for";
}

TEST_F(AgentCommandsTest, CheckNamesAWrongPasswordWithoutShowingTheUrl) {
  const auto topic = testenv::create_topic(1);
  const std::string url = testenv::require("OUTFLOW_TEST_PG_URL");
  const std::regex password(":([^:@/]+)@");
  const auto wrong = std::regex_replace(url, password, ":wrong-password-123@", std::regex_constants::format_first_only);
  ASSERT_NE(wrong, url);
  const auto r = run({"check"}, config(plaintext(), "topics: [{name: " + topic + "}]\n", topic, db_.table()), wrong);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(has_line(r.out,
                       "  FAIL  postgres: PostgreSQL connection failed: connection to server at \"[redacted]\", port "
                       "[port] failed: FATAL:  password authentication failed for user \"[redacted]\""))
      << r.out;
  EXPECT_TRUE(has_line(r.out, "  skip  outbox table: needs a database connection")) << r.out;
  EXPECT_EQ(r.out.find("wrong-password-123"), std::string::npos) << r.out;
  EXPECT_TRUE(has_line(r.out, "verdict: NOT READY, 1 check failed")) << r.out;
}

TEST_F(AgentCommandsTest, CheckNamesATlsFailure) {
  const auto topic = testenv::create_topic(1);
  // The SSL listener's certificate is signed by the test CA, which the
  // system trust store (no caFile) does not know.
  const auto kafka = "kafka:\n  bootstrapServers: [" + testenv::require("OUTFLOW_TEST_KAFKA_SSL") +
                     "]\n  connectTimeoutMs: 3000\n  tls: {enabled: true}\n";
  const auto r = run({"check"}, config(kafka, "topics: [{name: " + topic + "}]\n", topic, db_.table()));
  EXPECT_EQ(r.code, 2) << r.out;
  // librdkafka words the same failure two ways ("SSL handshake failed:
  // error:..." or "error:...(after N ms in state SSL_HANDSHAKE)"), depending
  // on which of its threads saw it first: the address and the reason are
  // what a user reads.
  const auto prefix = fmt::format("  FAIL  kafka: cannot connect to {}: ssl://{}/bootstrap: ",
                                  testenv::require("OUTFLOW_TEST_KAFKA_SSL"), testenv::require("OUTFLOW_TEST_KAFKA_SSL"));
  EXPECT_NE(r.out.find(prefix), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("certificate verify failed"), std::string::npos) << r.out;
  EXPECT_TRUE(has_line(r.out, fmt::format("  skip  topic {}: needs a Kafka connection", topic))) << r.out;
}

TEST_F(AgentCommandsTest, CheckOfAnInvalidConfigIsOneLineAndExit1) {
  const auto r = run({"check"}, config(plaintext(), "topics: [{name: t, partitions: 0}]\n", "t", db_.table()));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(r.out, "  FAIL  config: topics[0].partitions: must be between 1 and 10000, got 0\n"
                   "verdict: NOT READY, 1 check failed\n");
}

// Issue 14 point 3's "the principal may produce/consume them", against the
// broker's authorizer: the ACL listener's user has only what each test grants.
std::string grant_line(const std::string& operations, const std::string& topic) {
  return fmt::format("kafka-acls --bootstrap-server {} --add --allow-principal User:{} {} --topic {}",
                     testenv::require("OUTFLOW_TEST_KAFKA_ACL"), testenv::require("OUTFLOW_TEST_KAFKA_ACL_USER"),
                     operations, topic);
}

TEST_F(AgentCommandsTest, CheckNamesATopicThePrincipalMayNotWriteAndADeadLetterTopicItMayNotRead) {
  const auto user = testenv::require("OUTFLOW_TEST_KAFKA_ACL_USER");
  const auto orders = testenv::create_topic(1), payments = testenv::create_topic(1);
  const auto dlq = testenv::create_topic(testenv::unique_name("acl-dlq"), 1);
  const auto tier = testenv::create_topic(dlq + ".retry.1", 1), parked = testenv::create_topic(dlq + ".parked", 1);
  grant(orders, {RD_KAFKA_ACL_OPERATION_DESCRIBE, RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS});  // no WRITE
  grant(payments, {RD_KAFKA_ACL_OPERATION_WRITE, RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS});
  grant(dlq, {RD_KAFKA_ACL_OPERATION_DESCRIBE, RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS});  // no READ
  for (const auto& t : {tier, parked}) {
    grant(t, {RD_KAFKA_ACL_OPERATION_READ, RD_KAFKA_ACL_OPERATION_WRITE, RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS});
  }
  const auto r = run({"check"}, config(limited(), "topics: [{name: " + orders + "}, {name: " + payments + "}]\n", orders,
                                       db_.table(), "deadLetter: {topic: " + dlq + ", maxAttempts: 1}\n"));
  EXPECT_EQ(r.code, 2) << r.out;
  for (const auto& line : {
           fmt::format("  ok    topic {}: exists, 1 partitions", orders),
           fmt::format("  ok    topic {}: exists, 1 partitions", dlq),
           fmt::format("  FAIL  access to topic {}: User:{} may not WRITE it (the agent publishes to it); grant it: {}",
                       orders, user, grant_line("--operation Write", orders)),
           fmt::format("  FAIL  access to topic {}: User:{} may not READ it (the agent replays dead letters from it); "
                       "grant it: {}",
                       dlq, user, grant_line("--operation Read", dlq)),
           std::string("verdict: NOT READY, 2 checks failed"),
       }) {
    EXPECT_TRUE(has_line(r.out, line)) << line << "\n in:\n" << r.out;
  }
  // The write probe is refused by the broker before anything is appended.
  for (const auto& t : {orders, payments, tier, parked}) EXPECT_EQ(end_offset(t), 0) << t;
}

TEST_F(AgentCommandsTest, CheckNamesATopicThePrincipalMayNotDescribe) {
  const auto user = testenv::require("OUTFLOW_TEST_KAFKA_ACL_USER");
  const auto hidden = testenv::create_topic(1);  // no grant at all
  const auto r = run({"check"}, config(limited(), "topics: [{name: " + hidden + "}]\n", hidden, db_.table()));
  EXPECT_EQ(r.code, 2) << r.out;
  for (const auto& line : {
           fmt::format("  FAIL  topic {}: User:{} may not DESCRIBE it, so Kafka does not say whether it exists",
                       hidden, user),
           fmt::format("  FAIL  access to topic {}: User:{} may not WRITE or DESCRIBE_CONFIGS it (the agent publishes "
                       "to it); grant them: {}",
                       hidden, user, grant_line("--operation Write --operation DescribeConfigs", hidden)),
           std::string("verdict: NOT READY, 2 checks failed"),
       }) {
    EXPECT_TRUE(has_line(r.out, line)) << line << "\n in:\n" << r.out;
  }
}

TEST_F(AgentCommandsTest, CheckPassesWithExactlyTheGrantsTheReadmeNames) {
  const auto user = testenv::require("OUTFLOW_TEST_KAFKA_ACL_USER");
  const auto orders = testenv::create_topic(1);
  const auto dlq = testenv::create_topic(testenv::unique_name("acl-dlq"), 1);
  const auto tier = testenv::create_topic(dlq + ".retry.1", 1), parked = testenv::create_topic(dlq + ".parked", 1);
  grant(orders, {RD_KAFKA_ACL_OPERATION_WRITE, RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS});
  grant(dlq, {RD_KAFKA_ACL_OPERATION_READ});
  for (const auto& t : {tier, parked}) {
    grant(t, {RD_KAFKA_ACL_OPERATION_READ, RD_KAFKA_ACL_OPERATION_WRITE, RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS});
  }
  const auto r = run({"check"}, config(limited(), "topics: [{name: " + orders + "}]\n", orders, db_.table(),
                                       "deadLetter: {topic: " + dlq + ", maxAttempts: 1}\n"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(has_line(r.out, fmt::format("  ok    access: User:{} has every permission the agent needs on the 4 topics",
                                          user)))
      << r.out;
  for (const auto& t : {orders, tier, parked}) EXPECT_EQ(end_offset(t), 0) << t;
}

TEST_F(AgentCommandsTest, TopicsApplyCreatesGrowsAndRefusesAsTheOperatorDoes) {
  const auto topic = testenv::unique_name("applied");
  const auto dlq = testenv::unique_name("applied-dlq");
  const auto declared = [&](int partitions) {
    return config(plaintext(),
                  fmt::format("topics:\n  - name: {}\n    partitions: {}\n    replicationFactor: 1\n"
                              "    config: {{retention.ms: \"3600000\"}}\n",
                              topic, partitions),
                  topic, db_.table(), "deadLetter: {topic: " + dlq + ", maxAttempts: 1, partitions: 2}\n");
  };
  const std::vector<std::string> family{topic, dlq, dlq + ".retry.1", dlq + ".parked"};

  auto dry = run({"topics", "apply", "--dry-run"}, declared(3));
  EXPECT_EQ(dry.code, 0) << dry.out;
  EXPECT_TRUE(has_line(dry.out, fmt::format("  plan  {}: create (3 partitions, replication factor 1)", topic)))
      << dry.out;
  EXPECT_TRUE(has_line(dry.out, "topics apply: dry run, nothing changed")) << dry.out;
  EXPECT_TRUE(describe(family).empty());

  auto created = run({"topics", "apply"}, declared(3));
  EXPECT_EQ(created.code, 0) << created.out;
  EXPECT_TRUE(has_line(created.out, "topics apply: done")) << created.out;
  auto topics = describe(family);
  ASSERT_EQ(topics.size(), 4u) << created.out;
  EXPECT_EQ(topics.at(topic).partitions, 3);
  EXPECT_EQ(topics.at(topic).dynamic_config.at("retention.ms"), "3600000");
  EXPECT_EQ(topics.at(dlq + ".retry.1").partitions, 2);

  auto again = run({"topics", "apply"}, declared(3));
  EXPECT_EQ(again.code, 0) << again.out;
  EXPECT_TRUE(has_line(again.out, "topics apply: nothing to change")) << again.out;

  auto grown = run({"topics", "apply"}, declared(5));
  EXPECT_EQ(grown.code, 0) << grown.out;
  EXPECT_TRUE(has_line(grown.out, fmt::format("  do    {}: grow to 5 partitions", topic))) << grown.out;
  EXPECT_TRUE(eventually([&] { return describe({topic}).at(topic).partitions == 5; }, 10s));

  auto shrink = run({"topics", "apply"}, declared(2));
  EXPECT_EQ(shrink.code, 2) << shrink.out;
  EXPECT_NE(shrink.out.find(fmt::format("  FAIL  {}: ", topic)), std::string::npos) << shrink.out;
  EXPECT_EQ(describe({topic}).at(topic).partitions, 5);

  // Without a layout there is nothing to create from.
  auto unstated = run({"topics", "apply"}, config(plaintext(), "topics: [{name: " + topic + "}]\n", topic, db_.table()));
  EXPECT_EQ(unstated.code, 1) << unstated.out;
  EXPECT_EQ(unstated.out, "topics apply: the config states no layout for topics[0].partitions, "
                          "topics[0].replicationFactor (topics apply creates topics only with a stated partitions "
                          "and replicationFactor)\n");
}

}  // namespace
}  // namespace outflow::agent_tests
