// What the publisher promises about single rows and single replicas, through
// the agent binary against the real broker and PostgreSQL: a record batch the
// broker refuses takes down no innocent row, a replica that cannot reach
// Kafka hands its share to the others, errors clear once their cause is gone,
// topics are never created by the agent, and a topic the config does not
// declare yet is waited for, not condemned.

#include "agent/agent_fixture.h"
#include "common/kafka/admin.h"
#include "testenv.h"

#include <fmt/format.h>

#include <cstdio>
#include <thread>

namespace outflow::agent_tests {
namespace {

using AgentDeliveryTest = AgentTest;

kafka::ClientHandle admin_client() {
  return kafka::make_client(RD_KAFKA_PRODUCER,
                            kafka::make_conf(kafka::client_properties(testenv::plaintext_kafka())));
}

std::string create_topic_with(const std::map<std::string, std::string>& config, int partitions) {
  const auto name = testenv::unique_name("outbox");
  auto client = admin_client();
  const auto outcomes = kafka::create_topics(client.get(), {{name, partitions, 1, config}}, 30s);
  if (outcomes.size() != 1 || !outcomes[0].ok()) throw std::runtime_error("cannot create topic " + name);
  return name;
}

bool topic_exists(const std::string& name) {
  auto client = admin_client();
  return kafka::describe_topics(client.get(), {name}, 10s).contains(name);
}

std::int64_t insert_row(testenv::OutboxDb& db, const std::string& key, int number, std::size_t bytes = 0,
                        const std::optional<std::string>& topic = std::nullopt) {
  auto payload = std::to_string(number);
  if (payload.size() < bytes) payload.append(bytes - payload.size(), '.');
  return db.insert(key, payload, topic);
}

std::string last_error_of(testenv::OutboxDb& db, std::int64_t id) {
  const auto r = db.sql().exec(fmt::format("SELECT coalesce(last_error, '') FROM outbox WHERE id = {}", id));
  return std::string(r.value(0, 0));
}

TEST_F(AgentDeliveryTest, ATopicWhoseLimitIsBelowTheBatchSizeTakesEveryOrdinaryRowAndRefusesOnlyTheOversizedOne) {
  // 4 KiB per record batch: ordinary 2 KB rows fit one or two to a batch, the
  // 10 KB row fits none.
  topic_ = create_topic_with({{"max.message.bytes", "4096"}}, 3);
  spec()["topics"] = json::array({{{"name", topic_}, {"partitions", 3}, {"replicationFactor", 1}}});
  spec()["outbox"]["defaultTopic"] = topic_;
  start_agent("orders-agent-0");
  std::int64_t oversized = 0;
  std::vector<std::int64_t> behind;  // later rows of the oversized row's key
  for (int i = 0; i < 300; ++i) {
    const auto key = "k" + std::to_string(i % 20);
    if (i == 150) oversized = insert_row(db_, key, i, 10'000);
    const auto id = insert_row(db_, key, i, 2000);
    if (oversized != 0 && key == "k10") behind.push_back(id);
  }
  ASSERT_TRUE(eventually([&] { return db_.pending() == 1 + static_cast<std::int64_t>(behind.size()); }, 60s))
      << db_.pending() << " pending, " << db_.count("last_error IS NOT NULL") << " set aside";
  EXPECT_EQ(db_.count("last_error IS NOT NULL"), 1) << "an ordinary row was set aside";
  const auto reason = last_error_of(db_, oversized);
  EXPECT_NE(reason.find("max.message.bytes of 4096"), std::string::npos) << reason;
  EXPECT_NE(reason.find(topic_), std::string::npos) << reason;
  for (const auto id : behind) EXPECT_EQ(last_error_of(db_, id), "") << "row " << id;
  const auto d = deliveries(testenv::read_whole_topic(topic_, 20s));
  EXPECT_EQ(d.distinct, 300u - behind.size());
  expect_per_key_order(d);
}

TEST_F(AgentDeliveryTest, ALimitLoweredUnderARunningAgentSetsAsideOnlyTheRowTheBrokerRefusesAlone) {
  start_agent("orders-agent-0");
  db_.insert_many(20, 5);
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 20s));
  // The agent read the 1 MiB default; the broker now refuses any record
  // batch over 4 KiB, which the agent learns only from the refusals.
  {
    auto client = admin_client();
    const auto outcomes = kafka::alter_topic_configs(client.get(), {{topic_, {{"max.message.bytes", "4096"}}}}, 30s);
    ASSERT_TRUE(outcomes.size() == 1 && outcomes[0].ok());
  }
  std::int64_t oversized = 0;
  for (int i = 20; i < 220; ++i) {
    if (i == 120) oversized = insert_row(db_, "k0", i, 10'000);
    insert_row(db_, "k" + std::to_string(i % 5 + 1), i, 2000);  // never k0
  }
  ASSERT_TRUE(eventually([&] { return db_.pending() == 1; }, 60s))
      << db_.pending() << " pending, " << db_.count("last_error IS NOT NULL") << " set aside";
  const auto reason = last_error_of(db_, oversized);
  // Either the broker's own word (refused alone) or the limit the agent read
  // again after the refusal: both name why.
  EXPECT_TRUE(reason.find("Message size too large") != std::string::npos ||
              reason.find("max.message.bytes of 4096") != std::string::npos)
      << reason;
  EXPECT_EQ(db_.count("last_error IS NOT NULL"), 1);
  const auto d = deliveries(testenv::read_whole_topic(topic_, 20s));
  EXPECT_EQ(d.distinct, 220u);
  expect_per_key_order(d);
}

TEST_F(AgentDeliveryTest, AReplicaThatCannotReachKafkaGivesItsBucketsToAHealthyOne) {
  spec()["kafka"]["requestTimeoutMs"] = 2000;
  spec()["circuitBreaker"] = {{"openDurationMs", 2000}};
  auto cut_off = spec();
  // A port nothing listens on: this pod's path to the broker is broken.
  cut_off["kafka"]["bootstrapServers"] = json::array({fmt::format("127.0.0.1:{}", testenv::free_port())});
  // Both replicas share the buckets, about half each; the rows of the sick
  // one's half can only go out once it lets go of them.
  auto& sick = start_agent_with_spec("orders-agent-sick", cut_off);
  auto& healthy = start_agent("orders-agent-healthy");
  const auto owns_half = [](const AgentProcess& agent) {
    return agent.log().find("this one owns 32 of 64") != std::string::npos;
  };
  ASSERT_TRUE(eventually([&] { return owns_half(sick) && owns_half(healthy); }, 15s))
      << "the replicas never shared the buckets";
  db_.insert_many(1000, 200);
  const auto inserted = std::chrono::steady_clock::now();
  // Bound: the sick replica trips after requestTimeoutMs of silence (2 s),
  // stands down 2 x requestTimeoutMs later (4 s), the healthy one takes the
  // buckets on its next rebalance (1 s): about 7 s, 20 s allowed for a busy machine.
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 20s))
      << db_.pending() << " rows still pending: the sick replica kept its buckets";
  std::printf("all rows published %.1f s after insert with one replica cut off from Kafka\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - inserted).count());
  EXPECT_GT(db_.count("published_at IS NOT NULL"), 0);
  std::pair<int, std::string> ready;
  EXPECT_TRUE(eventually(
      [&] {
        ready = testenv::http_get(sick.health_port(), "/readyz");
        return ready.first == 503 && ready.second.find("Kafka") != std::string::npos;
      },
      10s))
      << ready.first << " " << ready.second;
  const auto d = deliveries(testenv::read_whole_topic(topic_, 20s));
  EXPECT_EQ(d.distinct, 1000u);
  expect_per_key_order(d);
}

TEST_F(AgentDeliveryTest, ADatabaseErrorIsShownWithItsTimeBacksOffAndClearsOnceTheCauseIsGone) {
  // The configured table does not exist yet: every claim fails.
  const auto later = db_.schema() + ".outbox_later";
  spec()["outbox"]["table"] = later;
  auto& agent = start_agent("orders-agent-0");
  std::optional<json> entry;
  ASSERT_TRUE(eventually(
      [&] {
        entry = agent_entry("orders-agent-0");
        return entry && entry->value("lastError", "").find("outbox_later") != std::string::npos;
      },
      15s))
      << (entry ? entry->dump() : "no entry");
  EXPECT_TRUE(entry->contains("lastErrorTime")) << entry->dump();
  // Back-off grows while statements keep failing, even though connecting works.
  const auto count_retries = [&] {
    const auto log = agent.log();
    std::size_t n = 0;
    for (std::size_t at = 0; (at = log.find("reconnecting in", at)) != std::string::npos; ++at) ++n;
    return n;
  };
  const auto before = count_retries();
  std::this_thread::sleep_for(6s);
  const auto retries = count_retries() - before;
  std::printf("%zu reconnects in 6 s while the table was missing\n", retries);
  EXPECT_LE(retries, 6u) << "the back-off does not grow";

  db_.sql().exec(fmt::format("CREATE TABLE {} (LIKE {}.outbox INCLUDING ALL)", later, db_.schema()));
  db_.sql().exec(fmt::format("INSERT INTO {} (event_id, key, payload) VALUES (gen_random_uuid(), 'k', '1')", later));
  ASSERT_TRUE(eventually(
      [&] {
        // publishedTotal alone is no news for the entry; the counter is live.
        entry = agent_entry("orders-agent-0");
        return entry && !entry->contains("lastError") && !entry->contains("lastErrorTime") &&
               agent.metric("outflow_outbox_published_total") == 1;
      },
      20s))
      << (entry ? entry->dump() : "no entry");
}

TEST_F(AgentDeliveryTest, ADeletedTopicIsNotCreatedAgainByTheAgent) {
  start_agent("orders-agent-0");
  db_.insert_many(10, 5);
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 20s));
  {
    auto client = admin_client();
    const auto outcomes = kafka::delete_topics(client.get(), {topic_}, 30s);
    ASSERT_EQ(outcomes.size(), 1u);
    ASSERT_TRUE(outcomes[0].ok()) << outcomes[0].message;
  }
  ASSERT_TRUE(eventually([&] { return !topic_exists(topic_); }, 20s));
  db_.insert_many(10, 5, 0, 10);
  // The test broker creates topics on request (auto.create.topics.enable);
  // the agent must never ask.
  std::this_thread::sleep_for(6s);
  EXPECT_FALSE(topic_exists(topic_)) << "the agent brought the deleted topic back";
  EXPECT_EQ(db_.pending(), 10) << "rows for a missing topic must wait, not vanish";
}

TEST_F(AgentDeliveryTest, ARowForATopicTheConfigDoesNotDeclareYetWaitsForTheRollThatDeclaresIt) {
  const auto added = testenv::create_topic(1);
  auto& old_config = start_agent("orders-agent-0");
  const auto early = insert_row(db_, "k1", 1, 0, added);  // a topic the running config lacks
  insert_row(db_, "k1", 2);                              // behind it, same key
  insert_row(db_, "k2", 3);                              // another key
  ASSERT_TRUE(eventually([&] { return db_.pending() == 2; }, 20s));
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(last_error_of(db_, early), "") << "set aside although a config roll may declare it";
  EXPECT_EQ(db_.pending(), 2);
  ASSERT_EQ(old_config.terminate(), 0);

  auto rolled = spec();
  rolled["topics"].push_back({{"name", added}, {"partitions", 1}, {"replicationFactor", 1}});
  start_agent_with_spec("orders-agent-1", rolled);
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 20s)) << db_.pending() << " rows still pending";
  EXPECT_EQ(testenv::read_topic(added, 1, 10s).size(), 1u);
}

TEST_F(AgentDeliveryTest, ARowSetAsideForAnUndeclaredTopicIsCheckedAgainByAnAgentOnANewConfig) {
  const auto added = testenv::create_topic(1);
  // Written long before: past the wait, so the running config sets it aside.
  const auto old_row = insert_row(db_, "k1", 1, 0, added);
  db_.sql().exec(fmt::format("UPDATE outbox SET created_at = now() - interval '1 hour' WHERE id = {}", old_row));
  auto& old_config = start_agent("orders-agent-0");
  ASSERT_TRUE(eventually([&] { return !last_error_of(db_, old_row).empty(); }, 20s));
  EXPECT_NE(last_error_of(db_, old_row).find("not declared"), std::string::npos);
  ASSERT_EQ(old_config.terminate(), 0);

  auto rolled = spec();
  rolled["topics"].push_back({{"name", added}, {"partitions", 1}, {"replicationFactor", 1}});
  start_agent_with_spec("orders-agent-1", rolled);
  ASSERT_TRUE(eventually([&] { return db_.pending() == 0; }, 20s)) << last_error_of(db_, old_row);
}

}  // namespace
}  // namespace outflow::agent_tests
