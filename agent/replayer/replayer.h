#pragma once

// The dead-letter replayer (DESIGN.md, "Dead-letter replayer"; issue 5): the
// I/O around the pure decisions of routing.h. One thread owns a consumer in
// the pipeline's replayer group, subscribed to `<dlq>` and every retry tier
// `<dlq>.retry.1..maxAttempts`, and an idempotent producer (acks=all):
//
//   <dlq>          -> produce to the tier of its attempt, or park
//   <dlq>.retry.n  -> head not yet due: keep it, pause the partition until it
//                     is, then produce it to its original topic (attempt n+1)
//   anything unusable -> <dlq>.parked with outflow-parked-reason
//
// No loss: an offset is committed only once every message before it in its
// partition has been acknowledged where it went next (tier, original topic or
// parked). Whatever stops the process, a message is at worst sent twice.
//
// Bounded repeats (issue 17): what a successor reads again after a crash is
// what was consumed past the last commit the broker confirmed. Consumption
// pauses while that reaches max_in_flight, and commits go out every quarter
// of it acknowledged (or commit_interval after the first), so a crash repeats
// at most max_in_flight dead letters. A tier copy carries
// `outflow-moved-from` and goes to the tier partition of its dead-letter
// partition, so a dead letter moved twice is recognised in the tier and
// republished once (move_dedup.h): the repeats that reach an application are
// republishes acknowledged but not yet committed, at most max_in_flight.
//
// Waiting costs nothing: the thread sleeps in poll(2) on an eventfd that
// librdkafka writes when a message or a delivery report arrives (and stop()
// writes to), with a timeout set by the earliest due head. A tier partition
// whose head is not due is paused, so a tier with a long delay never holds
// back another.
//
// Every produce first asks the circuit breaker (shared with the outbox
// publisher: both talk to the same cluster) and every delivery report feeds
// it; while it refuses, the message is kept and its partition paused. A
// permanent refusal (kafka::is_permanent_for_message: too big, invalid) is
// the message's fault and never a breaker failure.
//
// Sizes (issue 10 point 11): every message is measured before it is sent
// against its destination's effective max.message.bytes (read from the broker
// at start and after a size refusal) and the producer's message.max.bytes.
// One that cannot go whole is parked; one the parked topic cannot take whole
// is parked without its value; one that cannot go even so is given up, loudly
// (size_limits.h). No message pins its partition's commit.

#include "agent/config/agent_config.h"
#include "agent/replayer/replayer_stats.h"
#include "common/breaker/circuit_breaker.h"
#include "common/kafka/client_config.h"
#include "common/pipeline/spec.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace outflow::agent::replayer {

struct ReplayerSettings {
  PipelineRef pipeline;
  pipeline::PipelineSpec spec;  // spec.dead_letter must be set
  kafka::ConnectionSettings kafka;
  // Empty: group_id_for(pipeline). Replicas of one pipeline share the group
  // and so the partitions.
  std::string group_id;
  // group.instance.id: the pod name, so a replica restarted under it (a
  // container restart keeps the pod's name) takes its old member's place and
  // partitions at once. Empty: dynamic membership.
  std::string instance_id;
  // The longest a finished offset waits to be committed while running; a
  // burst commits every max_in_flight/4 acknowledgements sooner (and always on
  // stop and on a rebalance).
  std::chrono::milliseconds commit_interval{500};
  // After a failed delivery, before the message is produced again.
  std::chrono::milliseconds retry_backoff{1000};
  // While the breaker refuses, how often a held message asks again.
  std::chrono::milliseconds breaker_recheck{1000};
  // How long stop() and a rebalance wait for deliveries in flight.
  std::chrono::milliseconds drain_timeout{10000};
  // How soon the group notices a replica that died (and hands its partitions
  // to the others).
  // 10 s: a killed pod's partitions move on within seconds, as its outbox
  // buckets do; the broker's default minimum is 6 s and librdkafka
  // heartbeats every 3 s, so one lost heartbeat is no reason to rebalance.
  std::chrono::milliseconds session_timeout{10000};
  // How soon tier topics the operator creates after the agent started are
  // picked up.
  std::chrono::milliseconds metadata_refresh{30000};
  // The broker's long-poll for fetches; bounds how late the message after a
  // due tier head is seen, at the cost of one fetch per broker this often
  // while idle.
  std::chrono::milliseconds fetch_wait{100};
  // The in-flight window: messages consumed past the last confirmed commit at
  // which consumption pauses (resuming at half). Bounds memory and what a
  // crash repeats. Measured on a local broker: 5,000 republishes ~100,000
  // due messages/s, 2,000 only ~35,000 (it pauses too often), 10,000 ~90,000.
  std::size_t max_in_flight = 5000;
  // Wall clock in ms since the epoch, compared with Kafka timestamps; empty:
  // the system clock. Tests move it.
  std::function<std::int64_t()> now_ms;
};

// Called on the replayer's thread; keep them quick.
struct ReplayerHooks {
  std::function<void(const breaker::Transition&)> breaker_transition;
  std::function<void(std::size_t messages)> received;     // taken from the dead-letter topic
  std::function<void(std::size_t messages)> republished;  // acknowledged by the original topic
  std::function<void(std::size_t messages)> parked;       // acknowledged by <dlq>.parked
  // Could not be parked, not even without its value; logged as an error and
  // its offset finished (never retried: it would pin its partition).
  std::function<void(std::size_t messages)> given_up;
  // How late a due message went out (produce time minus due time, >= 0), per
  // republished message, once acknowledged.
  std::function<void(double seconds)> due_lag;
  // The consumer failed for good (fenced) and is replaced.
  std::function<void()> consumer_failed;
};

// "outflow-<namespace>-<name>-replayer".
std::string group_id_for(const PipelineRef& pipeline);

class Replayer {
 public:
  // Connects nothing yet. Throws std::invalid_argument without a deadLetter
  // block, kafka::ConfigError when the settings cannot make a client.
  // `breaker` must outlive the replayer.
  Replayer(ReplayerSettings settings, breaker::CircuitBreaker& breaker, ReplayerHooks hooks = {});
  ~Replayer();  // stop()
  Replayer(const Replayer&) = delete;
  Replayer& operator=(const Replayer&) = delete;

  // Subscribes and starts the thread.
  void start();
  // Stops consuming, waits up to drain_timeout for deliveries in flight,
  // commits what they finished and leaves the group (rd_kafka_consumer_close).
  // Idempotent.
  void stop();
  // Stops the way a killed process does: no waiting, no commit, no leaving
  // the group (the group notices after session_timeout). For tests of what a
  // crash leaves behind.
  void abandon();

  // Safe from any thread.
  ReplayerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace outflow::agent::replayer
