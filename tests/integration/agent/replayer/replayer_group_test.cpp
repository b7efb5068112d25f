// Replicas of one replayer group against the real broker: partitions shared
// and handed over on join, leave, kill and restart under the pod name, held
// heads surviving a rebalance, and recovery after a broker outage (the
// *OutageTest suite stops the broker: hack/test.sh runs it alone).

#include "agent/replayer/client_properties.h"
#include "agent/replayer/replayer_test_base.h"
#include "agent/replayer/schedule.h"
#include "child_process.h"
#include "common/kafka/client_config.h"
#include "common/kafka/handles.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

using namespace outflow;
using namespace outflow::agent::replayer;
using namespace outflow::replayer_tests;
using namespace std::chrono_literals;
using testenv::Record;

// Replicas of one pipeline share the group: every partition is read by
// exactly one of them, and each dead letter is republished once.
TEST_F(ReplayerTest, TwoReplicasShareThePartitionsAndReplayEachMessageOnce) {
  const auto spec = testenv::create_replay_pipeline(3, 300, 2, 4000, 2);  // 2 × (dlq + 3 tiers) = 8 partitions
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  const auto group = testenv::unique_name("grp");
  auto a = start(testenv::replayer_settings(spec, group));
  auto b = start(testenv::replayer_settings(spec, group));
  ASSERT_TRUE(eventually(
      [&] {
        const auto sa = a->stats().assigned_partitions, sb = b->stats().assigned_partitions;
        return sa > 0 && sb > 0 && sa + sb == 8;
      },
      30s))
      << a->stats().assigned_partitions << " + " << b->stats().assigned_partitions;

  constexpr int kMessages = 400;
  for (int i = 0; i < kMessages; ++i) {
    producer_.send(dlq, "k" + std::to_string(i), "m" + std::to_string(i), dead_letter_headers(orders, 1 + i % 3));
  }
  producer_.flush();
  const auto out = testenv::read_until(orders, [](const auto& r) { return r.size() >= kMessages; }, 30s);
  const auto distinct = distinct_values(out);
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kMessages));
  EXPECT_EQ(out.size(), static_cast<std::size_t>(kMessages)) << "no duplicates without a failure";
  EXPECT_GT(a->stats().received_total, 0);
  EXPECT_GT(b->stats().received_total, 0);
  EXPECT_EQ(a->stats().received_total + b->stats().received_total, kMessages);
  a->stop();
  b->stop();
}

// A replica joining while the first has messages in flight and heads held:
// the first finishes and commits what it handed over, nothing is lost.
TEST_F(ReplayerTest, AReplicaJoiningMidStreamLosesNothing) {
  const auto spec = testenv::create_replay_pipeline(3, 300, 2, 4000, 2);
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  const auto group = testenv::unique_name("grp");
  auto a = start(testenv::replayer_settings(spec, group));
  ASSERT_TRUE(eventually([&] { return a->stats().assigned_partitions == 8; }, 30s));

  constexpr int kMessages = 1000;
  std::unique_ptr<Replayer> b;
  for (int i = 0; i < kMessages; ++i) {
    producer_.send(dlq, "k" + std::to_string(i % 37), "m" + std::to_string(i), dead_letter_headers(orders, 1 + i % 3));
    if (i % 100 == 99) {
      producer_.flush();
      std::this_thread::sleep_for(100ms);
    }
    if (i == kMessages / 2) b = start(testenv::replayer_settings(spec, group));
  }
  producer_.flush();
  const auto subscribed = subscribed_topics(dlq, 3);
  ASSERT_TRUE(eventually(
      [&] {
        return a->stats().pending == 0 && b->stats().pending == 0 && testenv::group_caught_up(group, subscribed);
      },
      60s));
  const auto out = testenv::read_all(orders);
  const auto distinct = distinct_values(out);
  std::printf("[ REPLAYER ] replica joined mid-stream: %zu republished, %zu distinct, %zu duplicates; "
              "partitions %zu + %zu\n",
              out.size(), distinct.size(), out.size() - distinct.size(), a->stats().assigned_partitions,
              b->stats().assigned_partitions);
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kMessages)) << "a dead letter was lost";
  EXPECT_GT(b->stats().assigned_partitions, 0u);
  a->stop();
  b->stop();
}

// A partition paused to hold its head, taken away by a rebalance and given
// back, must be read again: librdkafka keeps the pause across the reassignment.
TEST_F(ReplayerTest, AHeldPartitionTakenAwayAndGivenBackIsReadAgain) {
  const auto spec = testenv::create_replay_pipeline(3, 4000, 2, 8000, 1);
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  const auto group = testenv::unique_name("grp");
  auto a = start(testenv::replayer_settings(spec, group));
  producer_.send(dlq, "k", "held across rebalances", dead_letter_headers(orders, 1));
  producer_.flush();
  ASSERT_TRUE(eventually([&] { return a->stats().moved_total == 1 && a->stats().paused_partitions == 1; }, 20s));

  {  // A second replica joins and leaves: two rebalances, A ends up with everything again.
    auto b = start(testenv::replayer_settings(spec, group));
    ASSERT_TRUE(eventually([&] { return b->stats().assigned_partitions > 0; }, 30s));
    b->stop();
  }
  ASSERT_TRUE(eventually([&] { return a->stats().assigned_partitions == 4; }, 30s));
  const auto out = testenv::read_until(orders, [](const auto& r) { return !r.empty(); }, 20s);
  ASSERT_EQ(out.size(), 1u) << "the held partition was never read again";
  EXPECT_EQ(out[0].value, "held across rebalances");
  a->stop();
}

// Issue 17: a replica SIGKILLed and restarted (a container restart keeps the
// pod name) used to leave its partitions unserved until the dead member's
// session expired, then rebalance again. With group.instance.id set to the
// pod name, the restarted replica takes its old member's place at once.
TEST_F(ReplayerTest, AReplicaKilledAndRestartedUnderItsPodNameServesItsPartitionsAtOnce) {
  const auto spec = testenv::create_replay_pipeline(3, 300, 2, 4000, 2);
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  const auto group = testenv::unique_name("grp");
  const auto settings_for = [&](const std::string& pod) {
    auto s = testenv::replayer_settings(spec, group);
    s.instance_id = pod;
    s.session_timeout = ReplayerSettings{}.session_timeout;  // as the agent runs: 10 s
    return s;
  };
  auto a = start(settings_for("orders-agent-a"));
  auto b = start(settings_for("orders-agent-b"));
  ASSERT_TRUE(eventually(
      [&] {
        const auto sa = a->stats().assigned_partitions, sb = b->stats().assigned_partitions;
        return sa > 0 && sb > 0 && sa + sb == 8;
      },
      40s));

  a->abandon();  // SIGKILL
  const auto killed = std::chrono::steady_clock::now();
  auto restarted = start(settings_for("orders-agent-a"));
  constexpr int kMessages = 200;
  for (int i = 0; i < kMessages; ++i) {
    producer_.send(dlq, "k" + std::to_string(i), "m" + std::to_string(i), dead_letter_headers(orders, 1));
  }
  producer_.flush();
  ASSERT_TRUE(eventually([&] { return republished() >= kMessages; }, 60s)) << republished();
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  std::printf("[ REPLAYER ] replica killed and restarted under its pod name: all %d dead letters (300 ms tier) "
              "republished %.1f s after the kill; partitions %zu + %zu\n",
              kMessages, seconds, restarted->stats().assigned_partitions, b->stats().assigned_partitions);
  EXPECT_LT(seconds, 5.0) << "the restarted replica waited for the dead member's session (10 s)";
  EXPECT_GT(restarted->stats().assigned_partitions, 0u);
  const auto distinct = distinct_values(testenv::read_all(orders));
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kMessages));

  // A replica stopped for good (SIGTERM: a rolling update's old pod) leaves
  // the group although it is a static member: the other takes over at once,
  // not after its session.
  const auto stopped = std::chrono::steady_clock::now();
  b->stop();
  ASSERT_TRUE(eventually([&] { return restarted->stats().assigned_partitions == 8; }, 30s));
  const auto handover = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped).count();
  std::printf("[ REPLAYER ] a static member stopped for good: its partitions moved on after %.1f s\n", handover);
  EXPECT_LT(handover, 5.0);
  restarted->stop();
}

// A second consumer joining under the replayer's group.instance.id (two pods
// given one name, or a commit sent under a member id the broker has since
// replaced) fences the replayer's consumer for good: librdkafka FATAL. The
// replayer puts a new consumer in its place, which takes the instance id
// back; what the fenced one held is read again, not lost.
TEST_F(ReplayerTest, AConsumerFencedForGoodIsReplacedAndWhatItHeldIsReadAgain) {
  const auto spec = testenv::create_replay_pipeline(3, 10000, 2, 40000, 1);  // dlq + 3 tiers, 4 partitions
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  auto s = testenv::replayer_settings(spec, testenv::unique_name("grp"));
  s.instance_id = "orders-agent-a";
  auto replayer = start(s);
  ASSERT_TRUE(eventually([&] { return replayer->stats().assigned_partitions == 4; }, 30s));
  constexpr int kHeld = 5;
  for (int i = 0; i < kHeld; ++i) {
    producer_.send(dlq, "k" + std::to_string(i), "held-" + std::to_string(i), dead_letter_headers(orders, 1));
  }
  producer_.flush();
  // Moved to tier 1, whose head is held (its partition paused) for 10 s:
  // state of the consumer's partitions when it is fenced.
  ASSERT_TRUE(eventually(
      [&] {
        const auto st = replayer->stats();
        return st.moved_total == kHeld && st.paused_partitions == 1;
      },
      20s));

  const auto fenced_at = std::chrono::steady_clock::now();
  {
    // The replayer's own consumer settings, so the same group.instance.id.
    auto intruder = kafka::make_client(RD_KAFKA_CONSUMER, kafka::make_conf(consumer_properties(s)));
    rd_kafka_poll_set_consumer(intruder.get());
    kafka::PartitionListHandle topics(rd_kafka_topic_partition_list_new(4));
    for (const auto& topic : subscribed_topics(dlq, 3)) {
      rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
    }
    ASSERT_EQ(rd_kafka_subscribe(intruder.get(), topics.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
    // Served so that it joins, until the replayer's consumer hears it is fenced.
    const bool fenced = eventually(
        [&] {
          kafka::MessageHandle ignored(rd_kafka_consumer_poll(intruder.get(), 100));
          return replayer->stats().consumer_failures_total > 0;
        },
        30s);
    // Gone as a killed pod goes, committing nothing (the replayer's new
    // consumer fences it in turn anyway).
    rd_kafka_destroy_flags(intruder.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    ASSERT_TRUE(fenced) << "the replayer's consumer was never fenced; last error: " << replayer->stats().last_error;
  }
  EXPECT_NE(replayer->stats().last_error.find("fenced"), std::string::npos) << replayer->stats().last_error;

  // A new consumer holds the tier head again: read again from the last commit.
  ASSERT_TRUE(eventually(
      [&] {
        const auto st = replayer->stats();
        return st.assigned_partitions == 4 && st.paused_partitions == 1;
      },
      30s))
      << "assigned " << replayer->stats().assigned_partitions << ", last error: " << replayer->stats().last_error;
  producer_.send(dlq, "k", "after the fence", dead_letter_headers(orders, 1));
  producer_.flush();
  const auto out = testenv::read_until(
      orders, [](const auto& records) { return distinct_values(records).size() >= kHeld + 1; }, 60s);
  std::printf("[ REPLAYER ] a fenced consumer: %zu republished, %zu distinct, %.1f s after the intruder joined "
              "(tier 1 waits 10 s)\n",
              out.size(), distinct_values(out).size(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - fenced_at).count());
  EXPECT_EQ(distinct_values(out).size(), static_cast<std::size_t>(kHeld + 1)) << "a dead letter was lost";
  EXPECT_TRUE(by_value(out).contains("after the fence"));
  EXPECT_EQ(replayer->stats().consumer_failures_total, 1) << "fenced again: " << replayer->stats().last_error;
  replayer->stop();
}

// Stops the broker: run alone (hack/test.sh runs every *OutageTest suite by
// itself).
class ReplayerOutageTest : public ReplayerTest {};

// Issue 17: after a 30 s broker outage the group was reassigned only ~19 s
// after the broker was back. Two replicas with static membership: dead
// letters that fell due during the outage go out within the bound of the
// README after the broker returns.
TEST_F(ReplayerOutageTest, DeadLettersDueDuringABrokerOutageGoOutSoonAfterItEnds) {
  pipeline::BreakerSpec quick;
  quick.open_duration_ms = 1000;  // the breaker's own wait is not what this measures
  breaker::CircuitBreaker breaker(quick, SteadyClock::instance());
  const auto spec = testenv::create_replay_pipeline(3, 3000, 2, 8000, 2);
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  const auto group = testenv::unique_name("grp");
  std::vector<std::unique_ptr<Replayer>> replicas;
  for (const auto* pod : {"orders-agent-a", "orders-agent-b"}) {
    auto s = testenv::replayer_settings(spec, group);
    s.instance_id = pod;
    s.session_timeout = ReplayerSettings{}.session_timeout;
    replicas.push_back(std::make_unique<Replayer>(s, breaker, hooks()));
    replicas.back()->start();
  }
  const auto moved = [&] {
    std::int64_t n = 0;
    for (const auto& r : replicas) n += r->stats().moved_total;
    return n;
  };
  ASSERT_TRUE(eventually(
      [&] { return replicas[0]->stats().assigned_partitions + replicas[1]->stats().assigned_partitions == 8; }, 40s));
  constexpr int kMessages = 40;
  for (int i = 0; i < kMessages; ++i) {
    producer_.send(dlq, "k" + std::to_string(i), "m" + std::to_string(i), dead_letter_headers(orders, 1));
  }
  producer_.flush();
  ASSERT_TRUE(eventually([&] { return moved() >= kMessages; }, 20s));  // in tier 1, due in 3 s

  std::chrono::steady_clock::time_point back;
  {
    testenv::PartStopped kafka("kafka");
    std::this_thread::sleep_for(15s);  // the outage itself: nothing to poll for
    kafka.restart();
    back = std::chrono::steady_clock::now();
  }
  ASSERT_TRUE(eventually([&] { return republished() >= kMessages; }, 60s)) << republished();
  std::chrono::steady_clock::time_point last;
  {
    std::lock_guard lock(mu_);
    last = last_republish_;
  }
  const auto recovery = std::chrono::duration<double>(last - back).count();
  // A commit librdkafka held through the outage may come back fenced: the
  // consumer is then replaced, which this counts.
  std::int64_t replaced = 0;
  for (const auto& r : replicas) replaced += r->stats().consumer_failures_total;
  std::printf("[ REPLAYER ] 15 s broker outage: the last of %d dead letters due during it went out %.1f s after "
              "the broker was back; %lld fenced consumer(s) replaced\n",
              kMessages, recovery, static_cast<long long>(replaced));
  EXPECT_LT(recovery, 10.0);
  const auto distinct = distinct_values(testenv::read_all(orders));
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kMessages));
  for (auto& r : replicas) r->stop();
}

// A broker outage that outlasts the group session: librdkafka revokes the
// assignment as lost, and the static member rejoins once the broker is back.
// Committing the lost partitions (what the revoke handler did for every
// revoke) sent a commit under a member id the returning broker no longer took
// for this group.instance.id: fenced, the consumer failed for good (FATAL)
// and read nothing more until its pod restarted.
TEST_F(ReplayerOutageTest, AnOutageLongerThanTheSessionLeavesTheConsumerReading) {
  const auto spec = testenv::create_replay_pipeline(3, 300, 2, 4000, 1);  // dlq + 3 tiers, 4 partitions
  const auto& dlq = spec.dead_letter->topic;
  const auto& orders = spec.topics[0].name;
  auto s = testenv::replayer_settings(spec, testenv::unique_name("grp"));
  s.instance_id = "orders-agent-a";
  // librdkafka holds a commit it cannot send for one session timeout, and
  // reaches a returning broker up to ~10 s late (reconnect back-off): the
  // session must expire before the broker is back (here 17-21 s after it
  // went, ~24 s: stop, 16 s, start) and a commit held from then must outlive
  // the reconnect (37-41 s). With the agent's 10 s that window is too narrow
  // to show the fence every time (measured: 1 run of 2).
  s.session_timeout = 20s;
  // What was acknowledged before the outage is still to be committed when the
  // session expires. Running, that is what the last commit interval
  // acknowledged, or a commit the outage made fail; here it is certain. And
  // no commit is sent before the outage: one that librdkafka still holds when
  // the session expires can be fenced all the same (it was, once, in
  // DeadLettersDueDuringABrokerOutageGoOutSoonAfterItEnds); the replayer then
  // replaces its consumer (AConsumerFencedForGoodIsReplaced...). Here only the
  // revoke handler could get it fenced.
  s.commit_interval = 10min;
  auto replayer = start(s);
  ASSERT_TRUE(eventually([&] { return replayer->stats().assigned_partitions == 4; }, 30s));
  constexpr int kBefore = 5;
  for (int i = 0; i < kBefore; ++i) {
    producer_.send(dlq, "k" + std::to_string(i), "before-" + std::to_string(i), dead_letter_headers(orders, 1));
  }
  producer_.flush();
  ASSERT_TRUE(eventually([&] { return republished() >= kBefore; }, 20s)) << republished();

  {
    testenv::PartStopped kafka("kafka");
    std::this_thread::sleep_for(16s);  // the outage itself: nothing to poll for
    kafka.restart();
  }
  const auto back = std::chrono::steady_clock::now();
  producer_.send(dlq, "k", "after the outage", dead_letter_headers(orders, 1));
  producer_.flush();
  const auto out = testenv::read_until(
      orders, [](const auto& records) { return by_value(records).contains("after the outage"); }, 60s);
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - back).count();
  const auto stats = replayer->stats();
  ASSERT_TRUE(by_value(out).contains("after the outage"))
      << "nothing read after the outage; consumer failures: " << stats.consumer_failures_total
      << ", last error: " << stats.last_error;
  std::printf("[ REPLAYER ] outage longer than the session: the dead letter sent after it went out %.1f s after the "
              "broker was back\n",
              seconds);
  EXPECT_EQ(stats.consumer_failures_total, 0) << "the consumer was fenced: " << stats.last_error;
  EXPECT_EQ(distinct_values(out).size(), static_cast<std::size_t>(kBefore + 1));
  replayer->stop();
}
