// `outflow-agent parked list|replay|purge` against the real broker: in-process
// through the same flag parsing main() uses, and once as the real binary with
// the config the operator renders, the way `kubectl exec` runs it in a pod.

#include "agent/outbox_fixture.h"
#include "agent/parked/command.h"
#include "agent/parked/parked.h"
#include "agent/replayer/replayer.h"
#include "agent/replayer/replayer_fixture.h"
#include "agent/replayer/schedule.h"
#include "child_process.h"
#include "common/breaker/circuit_breaker.h"
#include "common/clock.h"
#include "common/kafka/admin.h"
#include "operator/workloads/agent_config.h"
#include "testenv.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace {

using namespace std::chrono_literals;
using outflow::agent::parked::Header;
using outflow::agent::parked::Headers;
using outflow::testenv::Record;
namespace h = outflow::agent::replayer::header;
namespace parked = outflow::agent::parked;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

std::size_t lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

class ParkedTest : public ::testing::Test {
 protected:
  ParkedTest() {
    spec_ = outflow::testenv::create_replay_pipeline(2, 200, 2, 1000, 2);
    spec_.kafka.bootstrap_servers = {outflow::testenv::require("OUTFLOW_TEST_KAFKA_PLAINTEXT")};
    orders_ = spec_.topics[0].name;
    payments_ = spec_.topics[1].name;
    parked_ = outflow::agent::replayer::parked_topic(spec_.dead_letter->topic);
    tier1_ = outflow::agent::replayer::retry_tier_topic(spec_.dead_letter->topic, 1);
    config_.pipeline = {"test", "orders", "uid"};
    config_.spec = spec_;
    config_.kafka = outflow::testenv::plaintext_kafka();
  }

  // What the replayer puts in the parked topic after the last retry.
  Headers parked_headers(const std::string& topic, const std::string& reason = "retries used up (3 > 2)") {
    return {{std::string(h::kOriginalTopic), topic},
            {std::string(h::kOriginalPartition), "0"},
            {std::string(h::kOriginalOffset), "7"},
            {std::string(h::kError), "NullPointerException"},
            {std::string(h::kAttempt), "3"},
            {std::string(h::kParkedReason), reason}};
  }

  // Parses the arguments exactly as main() does, then runs in-process.
  Result run(std::vector<std::string> args) {
    CLI::App app;
    std::string config_path;
    app.add_option("--config", config_path);
    parked::ParkedOptions options;
    parked::add_parked_command(app, options);
    std::reverse(args.begin(), args.end());
    app.parse(args);
    auto checked = parked::check(options);
    if (auto* problem = std::get_if<std::string>(&checked)) return {parked::kExitUsage, "", *problem};
    std::ostringstream out, err;
    Result r;
    r.code = parked::run(std::get<parked::Request>(checked), config_, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  outflow::pipeline::PipelineSpec spec_;
  outflow::agent::AgentConfig config_;
  std::string orders_, payments_, parked_, tier1_;
  outflow::testenv::TestProducer producer_;
};

TEST_F(ParkedTest, ListSelectsByOriginalTopicAndParkedTime) {
  const auto old = now_ms() - 2 * 3600 * 1000;
  const auto recent = now_ms() - 60 * 1000;
  producer_.send(parked_, "o1", "v1", parked_headers(orders_), old);
  producer_.send(parked_, "o2", "v2", parked_headers(orders_), recent);
  producer_.send(parked_, "p1", "v3", parked_headers(payments_), old);
  producer_.send(parked_, std::nullopt, "v4", {{std::string(h::kParkedReason), "no original-topic header"}}, recent);
  producer_.flush();

  auto all = run({"parked", "list"});
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(lines(all.out), 1 + 4 + 1) << all.out;  // header, messages, counts
  EXPECT_NE(all.out.find("4 of 4 parked message(s) in " + parked_ + " matched"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("\t" + orders_ + "\t3\to1\tretries used up (3 > 2)\n"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("\t-\t-\t-\tno original-topic header\n"), std::string::npos) << all.out;

  auto orders = run({"parked", "list", "--original-topic", orders_, "--output", "json"});
  ASSERT_EQ(orders.code, 0) << orders.err;
  EXPECT_EQ(lines(orders.out), 2u) << orders.out;
  std::istringstream stream(orders.out);
  for (std::string line; std::getline(stream, line);) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["originalTopic"], orders_);
    EXPECT_EQ(j["attempt"], 3);
    EXPECT_EQ(j["originalOffset"], 7);
    EXPECT_EQ(j["error"], "NullPointerException");
  }
  EXPECT_NE(orders.err.find("2 of 4"), std::string::npos) << orders.err;  // counts off stdout in JSON mode

  const auto half_hour_ago = outflow::agent::parked::format_time_ms(now_ms() - 1800 * 1000);
  auto since = run({"parked", "list", "--since", half_hour_ago});
  EXPECT_NE(since.out.find("2 of 4"), std::string::npos) << since.out;
  auto until = run({"parked", "list", "--until", half_hour_ago, "--original-topic", orders_ + "," + payments_});
  EXPECT_NE(until.out.find("2 of 4"), std::string::npos) << until.out;
  EXPECT_NE(until.out.find("\to1\t"), std::string::npos) << until.out;
  EXPECT_NE(until.out.find("\tp1\t"), std::string::npos) << until.out;

  // Messages parked after the start are left for the next run; an empty
  // selection is no error.
  auto none = run({"parked", "list", "--from-offset", "1000"});
  EXPECT_EQ(none.code, 0) << none.err;
  EXPECT_NE(none.out.find("0 of 0"), std::string::npos) << none.out;
}

TEST_F(ParkedTest, ReplaySendsCopiesToTierOneWithAFreshAttemptAndItsOrigin) {
  const auto start = now_ms();
  producer_.send(parked_, "k1", "value-1", parked_headers(orders_), start - 1000);
  producer_.send(parked_, "k2", "value-2", parked_headers(payments_), start - 1000);
  producer_.send(parked_, "k3", "value-3", parked_headers("someone-elses-topic", "topic not in pipeline"));
  producer_.send(parked_, "k4", "value-4", {{std::string(h::kParkedReason), "no original-topic header"}});
  producer_.flush();
  const auto parked_before = outflow::testenv::read_all(parked_);

  auto dry = run({"parked", "replay", "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would replay 2 of 4"), std::string::npos) << dry.out;
  EXPECT_TRUE(outflow::testenv::read_all(tier1_).empty());

  auto replay = run({"parked", "replay"});
  ASSERT_EQ(replay.code, 0) << replay.out << replay.err;
  EXPECT_NE(replay.out.find("replayed 2 of 4 parked message(s) from " + parked_ + " to " + tier1_ + " (2 skipped, 0 failed)"),
            std::string::npos)
      << replay.out;
  EXPECT_NE(replay.out.find("would be parked again"), std::string::npos) << replay.out;
  EXPECT_NE(replay.out.find("--from-offset"), std::string::npos) << replay.out;
  EXPECT_NE(replay.out.find("replaying them again sends them again"), std::string::npos) << replay.out;

  const auto tier = outflow::testenv::read_all(tier1_);
  ASSERT_EQ(tier.size(), 2u);
  for (const auto& copy : tier) {
    const auto source = std::find_if(parked_before.begin(), parked_before.end(),
                                     [&](const Record& r) { return r.key == copy.key; });
    ASSERT_NE(source, parked_before.end());
    EXPECT_EQ(copy.value, source->value);
    EXPECT_EQ(copy.header(h::kAttempt), "1");
    EXPECT_FALSE(copy.header(h::kParkedReason));
    EXPECT_EQ(copy.header(h::kError), "NullPointerException");
    EXPECT_EQ(copy.header(h::kOriginalOffset), "7");
    EXPECT_EQ(copy.header(parked::kReplayedFrom),
              parked_ + "/" + std::to_string(source->partition) + "/" + std::to_string(source->offset));
    // Stamped when it entered the tier: the tier's delay counts from then.
    EXPECT_GE(copy.timestamp_ms, start);
  }
  std::vector<std::string> topics;
  for (const auto& copy : tier) topics.push_back(*copy.header(h::kOriginalTopic));
  std::sort(topics.begin(), topics.end());
  EXPECT_EQ(topics, (std::vector<std::string>{orders_, payments_}));
  // Nothing went to the live topics, and the parked ones are still there.
  EXPECT_TRUE(outflow::testenv::read_all(orders_).empty());
  EXPECT_TRUE(outflow::testenv::read_all(payments_).empty());
  EXPECT_EQ(outflow::testenv::read_all(parked_).size(), 4u);

  // Filters narrow a replay: only payments, then nothing past the end.
  auto payments = run({"parked", "replay", "--original-topic", payments_});
  ASSERT_EQ(payments.code, 0) << payments.err;
  EXPECT_NE(payments.out.find("replayed 1 of 4"), std::string::npos) << payments.out;
  auto past = run({"parked", "replay", "--from-offset", "100"});
  EXPECT_EQ(past.code, 0) << past.err;
  EXPECT_NE(past.out.find("replayed 0 of 0"), std::string::npos) << past.out;
  EXPECT_EQ(outflow::testenv::read_all(tier1_).size(), 3u);
}

// The whole way back: a replayed copy waits out tier 1 and the replayer
// republishes it to its original topic as attempt 2, still saying where it
// came from.
TEST_F(ParkedTest, TheReplayerRepublishesAReplayedCopyToItsOriginalTopic) {
  producer_.send(parked_, "again", "payload", parked_headers(orders_));
  producer_.flush();
  outflow::breaker::CircuitBreaker breaker(outflow::pipeline::BreakerSpec{}, outflow::SteadyClock::instance());
  outflow::agent::replayer::Replayer replayer(
      outflow::testenv::replayer_settings(spec_, outflow::testenv::unique_name("parked-grp")), breaker);
  replayer.start();

  auto replay = run({"parked", "replay", "--original-topic", orders_});
  ASSERT_EQ(replay.code, 0) << replay.err;
  const auto back = outflow::testenv::read_until(
      orders_, [](const std::vector<Record>& records) { return !records.empty(); }, 30s);
  replayer.stop();
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].key, "again");
  EXPECT_EQ(back[0].value, "payload");
  EXPECT_EQ(back[0].header(h::kAttempt), "2");
  EXPECT_FALSE(back[0].header(h::kParkedReason));
  EXPECT_EQ(back[0].header(parked::kReplayedFrom).value_or("").rfind(parked_ + "/", 0), 0u);
}

TEST_F(ParkedTest, PurgeDeletesTheMessagesParkedBeforeTheCutOff) {
  const auto old = now_ms() - 2 * 3600 * 1000;
  for (int i = 0; i < 6; ++i) producer_.send(parked_, "old-" + std::to_string(i), "v", parked_headers(orders_), old);
  producer_.flush();
  for (int i = 0; i < 4; ++i) producer_.send(parked_, "new-" + std::to_string(i), "v", parked_headers(orders_));
  producer_.flush();
  const auto cut = outflow::agent::parked::format_time_ms(now_ms() - 3600 * 1000);

  auto refused = run({"parked", "purge", "--before", cut, "--original-topic", orders_});
  EXPECT_EQ(refused.code, parked::kExitUsage);
  EXPECT_NE(refused.err.find("never single messages"), std::string::npos) << refused.err;

  auto dry = run({"parked", "purge", "--before", cut, "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would delete 6 message(s)"), std::string::npos) << dry.out;
  EXPECT_EQ(outflow::testenv::read_all(parked_).size(), 10u);

  auto purge = run({"parked", "purge", "--before", cut});
  ASSERT_EQ(purge.code, 0) << purge.err;
  EXPECT_NE(purge.out.find("deleted 6 message(s)"), std::string::npos) << purge.out;
  const auto left = outflow::testenv::read_all(parked_);
  ASSERT_EQ(left.size(), 4u);
  for (const auto& r : left) EXPECT_EQ(r.key->rfind("new-", 0), 0u) << *r.key;

  // Again: nothing older is left.
  auto again = run({"parked", "purge", "--before", cut});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("deleted 0 message(s)"), std::string::npos) << again.out;
}

TEST_F(ParkedTest, AnUnreachableClusterIsExitTwoWithOneLine) {
  config_.kafka.bootstrap_servers = {"127.0.0.1:1"};
  config_.kafka.request_timeout_ms = 2000;
  auto r = run({"parked", "list"});
  EXPECT_EQ(r.code, parked::kExitKafka);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("parked: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("127.0.0.1:1"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

// Issue 17: a partition the topic does not have is the caller's typo (exit 1),
// not a Kafka failure a script would retry (exit 2).
TEST_F(ParkedTest, APartitionTheTopicDoesNotHaveIsABadArgument) {
  for (const auto& args : {std::vector<std::string>{"parked", "list", "--partition", "99"},
                           std::vector<std::string>{"parked", "purge", "--before", "2030-01-01T00:00:00Z",
                                                    "--partition", "99", "--dry-run"}}) {
    auto r = run(args);
    EXPECT_EQ(r.code, parked::kExitUsage) << r.err;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("has no partition 99 (it has 2)"), std::string::npos) << r.err;
  }
}

TEST_F(ParkedTest, AMissingParkedTopicIsNamed) {
  config_.spec.dead_letter->topic = outflow::testenv::unique_name("no-such-dlq");
  auto r = run({"parked", "list"});
  EXPECT_EQ(r.code, parked::kExitKafka);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  // The test broker auto-creates topics on request: asking must not.
  EXPECT_FALSE(outflow::testenv::topic_exists(
      outflow::agent::replayer::parked_topic(config_.spec.dead_letter->topic)));
}

// Issue 10 point 12: a replay whose tier 1 was deleted fails, and does not
// bring the tier back with the broker's defaults.
TEST_F(ParkedTest, AReplayToADeletedTierCreatesNothing) {
  producer_.send(parked_, "k1", "value-1", parked_headers(orders_));
  producer_.flush();
  {
    auto admin = outflow::kafka::make_client(
        RD_KAFKA_PRODUCER, outflow::kafka::make_conf(outflow::kafka::client_properties(config_.kafka)));
    for (const auto& outcome : outflow::kafka::delete_topics(admin.get(), {tier1_}, std::chrono::seconds(30))) {
      ASSERT_TRUE(outcome.ok()) << outcome.message;
    }
  }
  ASSERT_TRUE(outflow::testenv::eventually([&] { return !outflow::testenv::topic_exists(tier1_); },
                                           std::chrono::seconds(20), std::chrono::milliseconds(200)));
  auto r = run({"parked", "replay"});
  EXPECT_NE(r.code, 0) << r.out << r.err;
  EXPECT_FALSE(outflow::testenv::topic_exists(tier1_)) << "parked replay created the deleted tier";
}

// A copy the replayer parked without its value (too big for the parked
// topic) would reach the application as an empty message: never replayed.
TEST_F(ParkedTest, ReplaySkipsACopyParkedWithoutItsValue) {
  auto headers = parked_headers(orders_);
  headers.push_back({std::string(h::kParkedValueDropped), "50000"});
  producer_.send(parked_, "k1", "", headers);
  producer_.flush();
  auto r = run({"parked", "replay"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("replayed 0 of 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parked without its value"), std::string::npos) << r.out;
  EXPECT_TRUE(outflow::testenv::read_all(tier1_).empty());
}

// The binary, as `kubectl exec deploy/<pipeline>-agent -- outflow-agent parked
// list` runs it: the operator's rendered config, the downward-API variables.
TEST_F(ParkedTest, TheAgentBinaryListsWithTheRenderedConfig) {
  producer_.send(parked_, "bin-1", "v", parked_headers(orders_));
  producer_.send(parked_, "bin-2", "v", parked_headers(payments_));
  producer_.flush();

  const auto dir = outflow::testenv::unique_name("/tmp/outflow-parked-test");
  std::filesystem::create_directories(dir);
  const auto write_config = [&](const outflow::pipeline::PipelineSpec& spec, const std::string& name) {
    auto config = outflow::op::workloads::agent_config({"test", "orders", "uid"}, spec);
    std::ofstream(dir + "/database-url") << outflow::testenv::require("OUTFLOW_TEST_PG_URL");
    config["outbox"]["databaseUrl"] = {{"file", dir + "/database-url"}};
    const auto path = dir + "/" + name;
    std::ofstream(path) << outflow::op::workloads::render_agent_config(config);
    return path;
  };
  const auto run_binary = [&](std::vector<std::string> args,
                                std::map<std::string, std::string> env = {{"POD_NAME", "orders-agent-0"},
                                                                          {"POD_NAMESPACE", "test"}}) {
    args.insert(args.begin(), OUTFLOW_AGENT_BIN);
    outflow::testenv::ChildProcess process(args, env);
    EXPECT_TRUE(outflow::testenv::eventually([&] { return !process.running(); }, 60s));
    const int code = process.terminate();
    return Result{code, process.log(), ""};
  };

  const auto path = write_config(spec_, "agent.yaml");
  auto listed = run_binary({"parked", "list", "--config=" + path, "--original-topic", orders_});
  EXPECT_EQ(listed.code, 0) << listed.out;
  EXPECT_NE(listed.out.find("PARTITION\tOFFSET"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("\tbin-1\t"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find("\tbin-2\t"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("1 of 2"), std::string::npos) << listed.out;

  // --config before the subcommand works too; a pipeline without deadLetter
  // is one line and exit 1.
  auto no_dlq = spec_;
  no_dlq.dead_letter.reset();
  auto refused = run_binary({"--config=" + write_config(no_dlq, "no-dlq.yaml"), "parked", "list"});
  EXPECT_EQ(refused.code, 1) << refused.out;
  EXPECT_EQ(refused.out, "parked: pipeline test/orders has no deadLetter, so it has no parked topic\n");

  auto bad_flag = run_binary({"parked", "purge", "--config=" + path});
  EXPECT_EQ(bad_flag.code, 1) << bad_flag.out;
  EXPECT_NE(bad_flag.out.find("--before"), std::string::npos) << bad_flag.out;

  // Issue 17: run outside the pod with the same config, there is no
  // downward API; the command needs neither variable.
  ASSERT_EQ(std::getenv("POD_NAME"), nullptr) << "the test must run without POD_NAME";
  ASSERT_EQ(std::getenv("POD_NAMESPACE"), nullptr) << "the test must run without POD_NAMESPACE";
  auto outside = run_binary({"parked", "list", "--config=" + path, "--original-topic", orders_}, {});
  EXPECT_EQ(outside.code, 0) << outside.out;
  EXPECT_NE(outside.out.find("\tbin-1\t"), std::string::npos) << outside.out;

  auto unknown = run_binary({"parked", "lsit", "--config=" + path});
  EXPECT_EQ(unknown.code, 1) << unknown.out;
  EXPECT_NE(unknown.out.find("list, replay or purge"), std::string::npos) << unknown.out;
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace
