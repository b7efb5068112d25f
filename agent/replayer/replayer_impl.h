#pragma once

// The replayer's adapter, private to agent/replayer: its state and the steps
// it takes. It turns librdkafka's events (messages, delivery reports,
// rebalances, commit results) into calls on the pure parts (route,
// after_report, the offset book, the timers, the flow gate and commit pacer,
// the stats) and their answers into librdkafka calls. Everything runs on the
// replayer's thread, except the lifecycle and stats entry points.

#include "agent/replayer/replayer.h"

#include "agent/replayer/consumer_errors.h"
#include "agent/replayer/flow.h"
#include "agent/replayer/kafka_glue.h"
#include "agent/replayer/ledger.h"
#include "agent/replayer/move_dedup.h"
#include "agent/replayer/offset_book.h"
#include "agent/replayer/replayer_stats.h"
#include "agent/replayer/routing.h"
#include "agent/replayer/size_limits.h"
#include "agent/replayer/timer_set.h"
#include "common/kafka/handles.h"
#include "common/kafka/record_size.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace outflow::agent::replayer {

struct Replayer::Impl {
  // A consumed message on its way somewhere, or waiting to be sent again.
  struct Outgoing {
    kafka::MessageHandle message;  // the consumed message, kept to send it again
    Route route;
    std::int64_t produced_ms = 0;
    // Permanent refusals of `route` so far: the first is tried once more
    // alone (the broker refuses a whole record batch, so a message may be
    // refused for its neighbours), the second sends something smaller.
    int refusals = 0;
  };

  Impl(ReplayerSettings s, breaker::CircuitBreaker& b, ReplayerHooks h);

  ~Impl() { stop(false); }

  // ---- clients (replayer.cpp)
  kafka::ClientHandle make_producer();
  kafka::ClientHandle make_consumer();
  void subscribe();
  void replace_consumer();
  void forget_consumer_state();

  // ---- lifecycle (replayer.cpp)
  void start();
  void stop(bool crash);
  void release_messages();
  void warm_up();
  std::vector<std::string> destinations() const;
  void read_limits();
  void run();
  void leave_group();

  // ---- consuming (replayer_consume.cpp)
  void consume(kafka::MessageHandle message);
  void look_back(const TopicPartition& tp, const rd_kafka_message_t* m);
  bool repeated_move(const TopicPartition& tp, const rd_kafka_message_t* m);
  int tier_of(const std::string& topic) const;
  Route decide(const rd_kafka_message_t* m) const;
  void dispatch(kafka::MessageHandle message, bool was_held);
  void hold(const TopicPartition& tp, kafka::MessageHandle message, std::int64_t wake_ms, bool already_paused);
  void resume(const TopicPartition& tp, std::int64_t from);
  void restart(const TopicPartition& tp, std::int64_t from);

  // ---- producing (replayer_produce.cpp)
  bool produce(kafka::MessageHandle& message, Route route, int refusals = 0);
  static std::vector<kafka::RecordHeader> record_headers(const Headers& headers);
  void give_up(const rd_kafka_message_t* m, const std::string& why);
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* report, void* opaque);
  void delivered(const rd_kafka_message_t* report);
  void retry_later(Outgoing entry, std::int64_t at);
  void finished_one(const Outgoing& entry);
  void feed_breaker(bool failed);
  void report(const breaker::Transition& t);
  static void on_producer_error(rd_kafka_t* client, int code, const char* reason, void* opaque);
  static void on_consumer_error(rd_kafka_t*, int code, const char* reason, void* opaque);
  void consumer_error(rd_kafka_resp_err_t error, const char* what, ConsumerErrorSource source);
  void replace_producer();

  // ---- timers (replayer_consume.cpp)
  void fire_timers(std::int64_t now);
  void flow_control();

  // ---- offsets (replayer_offsets.cpp)
  void commit(bool sync, const std::set<TopicPartition>* only = nullptr);
  static void on_commit(rd_kafka_t*, rd_kafka_resp_err_t error, rd_kafka_topic_partition_list_t* offsets, void* opaque);

  // ---- rebalancing (replayer_offsets.cpp)
  static void on_rebalance(rd_kafka_t* client, rd_kafka_resp_err_t error, rd_kafka_topic_partition_list_t* partitions,
      void* opaque);
  void assign(rd_kafka_t* client, rd_kafka_topic_partition_list_t* partitions);
  // Drops everything kept for `partitions` (held heads, in flight, waiting
  // to be retried, their ledgers): whoever reads them next repeats it.
  void forget(const std::set<TopicPartition>& partitions);
  // Serves delivery reports until none of the matching messages is in
  // flight, or drain_timeout passed.
  template <typename Match>
  void drain(Match match) {
    const auto deadline = std::chrono::steady_clock::now() + settings.drain_timeout;
    auto waiting = [&] {
      return std::any_of(in_flight.begin(), in_flight.end(), [&](const auto& e) { return match(e.second); });
    };
    while (waiting() && std::chrono::steady_clock::now() < deadline) rd_kafka_poll(producer.get(), 100);
    if (waiting()) note_error("deliveries still in flight after the drain timeout; they will be repeated");
  }

  // ---- status (replayer.cpp)
  void note_error(std::string message);

  void publish_stats() { board.publish(stats_of(counters, offsets, gate.paused())); }

  ReplayerSettings settings;
  RoutingRules rules;
  breaker::CircuitBreaker& breaker;
  ReplayerHooks hooks;
  std::string dlq;
  std::string parked;
  std::map<std::string, int> tiers;  // tier topic -> tier

  // Declared before the clients so it is closed after them: librdkafka may
  // write to it until they are gone.
  EventFd wake;
  kafka::ClientHandle producer;
  kafka::ClientHandle consumer;
  // Released before the clients they belong to.
  kafka::QueueHandle producer_queue;
  kafka::QueueHandle consumer_queue;
  std::vector<kafka::TopicHandle> known_topics;  // producer's topics, released before it

  std::mutex lifecycle_mu;
  std::thread thread;
  bool finished = false;
  std::atomic<bool> stopping{false};
  std::atomic<bool> abandoning{false};

  // Thread-owned state.
  OffsetBook offsets;
  std::map<TopicPartition, MoveDedup> dedups;      // per tier partition
  std::map<std::string, int> partition_counts;     // of the tier topics, from warm_up
  std::map<TopicPartition, kafka::MessageHandle> held_messages;  // the heads of held partitions
  TimerSet<TopicPartition> held_at;
  std::unordered_map<std::uint64_t, Outgoing> in_flight;  // by the id its delivery report carries
  std::map<std::uint64_t, Outgoing> retrying;
  TimerSet<std::uint64_t> retry_at;
  FlowGate gate;
  CommitPacer pacer;
  std::uint64_t next_id = 1;
  bool producer_fatal = false;
  bool consumer_fatal = false;  // reads nothing more: replaced by run()
  ReplacementBackoff consumer_backoff;
  std::int64_t replace_consumer_at = 0;  // settings.now_ms() time
  ReplayerCounters counters;
  SizeLimits limits;
  bool refresh_limits = false;

  StatsBoard board;
};

}  // namespace outflow::agent::replayer
