// CreateTopicsBatcher against the real broker: callers arriving while a
// request is in flight share the next one, each gets its own answers, a
// topic two callers ask for at once is created once, and one caller's topic
// librdkafka cannot express fails that caller alone.

#include "common/kafka/create_batcher.h"
#include "common/kafka/client_config.h"
#include "child_process.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

using namespace outflow;
using namespace std::chrono_literals;

namespace {

kafka::ClientHandle admin_client() {
  kafka::ConnectionSettings s;
  s.bootstrap_servers = {testenv::require("OUTFLOW_TEST_KAFKA_PLAINTEXT")};
  return kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf(kafka::client_properties(s)));
}

// The real create_topics, with its first request held until released: the
// test then knows every other caller arrived while a request was in flight.
class HeldFirstRequest {
 public:
  kafka::CreateTopicsBatcher::Send send() {
    return [this](rd_kafka_t* client, const std::vector<kafka::NewTopic>& topics, std::chrono::milliseconds timeout) {
      if (first_.exchange(false)) {
        std::unique_lock lock(mu_);
        released_cv_.wait(lock, [this] { return released_; });
      }
      return kafka::create_topics(client, topics, timeout);
    };
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    released_cv_.notify_all();
  }

 private:
  std::atomic<bool> first_{true};
  std::mutex mu_;
  std::condition_variable released_cv_;
  bool released_ = false;
};

std::vector<kafka::NewTopic> three_topics(const std::string& prefix) {
  return {{prefix + ".a", 1, 1, {}}, {prefix + ".b", 2, 1, {}}, {prefix + ".c", 1, 1, {}}};
}

TEST(CreateTopicsBatcher, CallersArrivingDuringARequestShareTheNextOneAndEachGetsItsOwnAnswers) {
  auto client = admin_client();
  HeldFirstRequest held;
  kafka::CreateTopicsBatcher batcher(1000, held.send());
  const auto run = testenv::unique_name("batch");
  constexpr int kCallers = 12;
  std::vector<std::vector<kafka::TopicOutcome>> answers(kCallers);
  std::vector<std::thread> callers;
  callers.emplace_back([&] { answers[0] = batcher.create(client.get(), three_topics(run + ".0"), 30s); });
  ASSERT_TRUE(testenv::eventually([&] { return batcher.requests() == 1; }, 10s, 5ms));
  for (int i = 1; i < kCallers; ++i) {
    callers.emplace_back(
        [&, i] { answers[i] = batcher.create(client.get(), three_topics(run + "." + std::to_string(i)), 30s); });
  }
  ASSERT_TRUE(testenv::eventually([&] { return batcher.gathering(client.get()) == 3 * (kCallers - 1); }, 10s, 5ms));
  held.release();
  for (auto& t : callers) t.join();

  EXPECT_EQ(batcher.requests(), 2u) << "one request held, then one for the 11 callers that came meanwhile";
  for (int i = 0; i < kCallers; ++i) {
    ASSERT_EQ(answers[i].size(), 3u) << i;
    const auto expected = three_topics(run + "." + std::to_string(i));
    for (int t = 0; t < 3; ++t) {
      EXPECT_EQ(answers[i][t].name, expected[t].name);
      EXPECT_TRUE(answers[i][t].ok()) << answers[i][t].message;
    }
  }
  // The broker's metadata follows a CreateTopics answer a moment later.
  std::map<std::string, kafka::DescribedTopic> described;
  ASSERT_TRUE(testenv::eventually(
      [&] {
        described = kafka::describe_topics(client.get(), {run + ".11.b", run + ".0.b"}, 10s);
        return described.size() == 2;
      },
      10s, 50ms));
  EXPECT_EQ(described.at(run + ".11.b").partitions, 2);
}

TEST(CreateTopicsBatcher, ATopicTwoCallersAskForAtOnceIsCreatedOnceAndTheOtherHearsItExists) {
  auto client = admin_client();
  HeldFirstRequest held;
  kafka::CreateTopicsBatcher batcher(1000, held.send());
  const auto run = testenv::unique_name("batchdup");
  std::vector<kafka::TopicOutcome> first, second, third;
  std::thread a([&] { first = batcher.create(client.get(), {{run + ".x", 1, 1, {}}}, 30s); });
  ASSERT_TRUE(testenv::eventually([&] { return batcher.requests() == 1; }, 10s, 5ms));
  std::thread b([&] { second = batcher.create(client.get(), {{run + ".shared", 1, 1, {}}}, 30s); });
  ASSERT_TRUE(testenv::eventually([&] { return batcher.gathering(client.get()) == 1; }, 10s, 5ms));
  // Cannot join the gathering batch (the name is in it): waits for the next.
  std::thread c([&] { third = batcher.create(client.get(), {{run + ".shared", 1, 1, {}}}, 30s); });
  held.release();
  a.join();
  b.join();
  c.join();
  ASSERT_EQ(second.size(), 1u);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_TRUE(second[0].ok()) << second[0].message;
  EXPECT_EQ(third[0].error, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) << third[0].message;
}

TEST(CreateTopicsBatcher, ATopicLibrdkafkaRefusesFailsOnlyTheCallerThatAskedForIt) {
  auto client = admin_client();
  HeldFirstRequest held;
  kafka::CreateTopicsBatcher batcher(1000, held.send());
  const auto run = testenv::unique_name("batchbad");
  std::vector<kafka::TopicOutcome> good;
  std::exception_ptr bad_error;
  std::thread first([&] { batcher.create(client.get(), {{run + ".first", 1, 1, {}}}, 30s); });
  ASSERT_TRUE(testenv::eventually([&] { return batcher.requests() == 1; }, 10s, 5ms));
  std::thread good_caller([&] { good = batcher.create(client.get(), {{run + ".good", 1, 1, {}}}, 30s); });
  std::thread bad_caller([&] {
    try {
      batcher.create(client.get(), {{run + ".bad", -5, 1, {}}}, 30s);
    } catch (...) {
      bad_error = std::current_exception();
    }
  });
  ASSERT_TRUE(testenv::eventually([&] { return batcher.gathering(client.get()) == 2; }, 10s, 5ms));
  held.release();
  first.join();
  good_caller.join();
  bad_caller.join();
  ASSERT_EQ(good.size(), 1u);
  EXPECT_TRUE(good[0].ok()) << good[0].message;
  ASSERT_TRUE(bad_error);
  try {
    std::rethrow_exception(bad_error);
  } catch (const kafka::AdminError& e) {
    EXPECT_EQ(e.code(), RD_KAFKA_RESP_ERR__INVALID_ARG) << e.what();
  }
}

}  // namespace
