#pragma once

// The outbox publisher: one thread that owns a PostgreSQL session (locks,
// LISTEN, reads, marks) and a Kafka producer, and moves committed rows of its
// buckets to Kafka batch by batch:
//
//   rebalance buckets -> ask the breaker -> read pending rows in id order ->
//   set poison aside -> produce -> serve delivery reports until every row of
//   the batch has its own -> mark exactly the acknowledged rows -> repeat at
//   once if the batch was full, else wait for NOTIFY or pollIntervalMs.
//
// Draining a backlog, the steps overlap: while a batch is in flight the next
// one is read and produced (a window of up to DrainSettings::max_batches),
// and each batch is marked as soon as it is complete, while later ones fly.
// When that is safe, and how trouble in one batch stops the next from being
// read, is drain_window.h; how often a caught-up publisher reads under a
// NOTIFY storm is claim_pacer.h.
//
// The loop never blocks inside a batch: while reports are awaited it keeps
// turning (liveness, gauges, the breaker). Kafka acknowledging nothing for
// requestTimeoutMs while messages wait opens the breaker at once; a breaker
// that stays open for standDownAfter makes this replica give up its buckets
// (and fail readiness) so healthy replicas publish them, until a probe finds
// Kafka again.
//
// Order: a key's rows go out in id order, and no later row of a key is ever
// acknowledged while an earlier one is given up (see kafka_producer.h); a row
// the broker refuses is sent again alone before it is called poison, so one
// bad row never takes the rows of other keys down with its record batch.
//
// At-least-once: a row is marked only after Kafka acknowledged it, and rows
// acknowledged while PostgreSQL was away are marked first thing after the
// reconnect, before anything new is read. Whatever dies, a row is at worst
// sent twice, never lost.

#include "agent/publisher/outbox_store.h"
#include "agent/publisher/prune_schedule.h"
#include "common/breaker/circuit_breaker.h"
#include "common/kafka/client_config.h"
#include "common/pipeline/spec.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace outflow::agent::publisher {

struct PublisherSettings {
  pipeline::PipelineSpec spec;
  std::string database_url;  // secret
  kafka::ConnectionSettings kafka;
  // The most often buckets are rebalanced. A replica joining or leaving
  // gracefully is noticed at once (NOTIFY); a crashed one at the next
  // rebalance, which an idle publisher does once per pollIntervalMs.
  std::chrono::milliseconds rebalance_interval{1000};
  // The housekeeper's own schedule (its own session and thread).
  std::chrono::milliseconds backlog_interval{2000};
  PruneSettings prune;
  std::chrono::milliseconds reconnect_initial{200};
  std::chrono::milliseconds reconnect_max{5000};
  // How long a stopping publisher keeps trying to mark rows Kafka already
  // acknowledged while PostgreSQL is away (after that they are sent again by
  // whoever owns their bucket next: duplicates, never loss).
  std::chrono::milliseconds drain_timeout{10000};
  // A row naming a topic the config does not declare waits this long (from
  // its created_at) before it is poison: long enough for a config roll that
  // adds the topic. An agent starting on a new config also looks again at
  // rows set aside for that reason.
  std::chrono::milliseconds undeclared_topic_grace{300000};
  // How often the destination topics' size limits are read again.
  std::chrono::milliseconds limits_refresh{60000};
  // How long the breaker may stay away from Closed before this replica gives
  // up its buckets; zero: 2 x requestTimeoutMs.
  std::chrono::milliseconds stand_down_after{0};
};

// Called on the publisher's thread; keep them quick.
struct PublisherHooks {
  std::function<void(const breaker::Transition&)> breaker_transition;
  std::function<void(std::size_t rows, const std::vector<double>& latencies_seconds)> published;
  std::function<void(std::size_t rows)> poisoned;
  std::function<void(const Backlog&)> backlog;
};

struct PublisherStats {
  std::int64_t published_total = 0;
  std::int64_t poison_total = 0;
  // Claims, and those of them that read ahead while earlier batches were
  // still in flight (a backlog drained through the window).
  std::int64_t claims_total = 0;
  std::int64_t read_ahead_total = 0;
  std::optional<Backlog> backlog;
  std::size_t owned_buckets = 0;
  bool database_connected = false;
  // The current problem (database or Kafka) and when it began; empty once
  // its cause is gone.
  std::string last_error;
  std::chrono::system_clock::time_point last_error_at{};
  // Kafka stayed unreachable past standDownAfter: this replica holds no
  // buckets and is not ready until a probe reaches Kafka again.
  bool standing_down = false;
  // When the loop last went round: a loop that stops turning (a hung call, a
  // deadlock) is what the liveness probe exists for.
  std::chrono::steady_clock::time_point loop_heartbeat{};
};

class Publisher {
 public:
  // Throws kafka::ConfigError when the Kafka settings cannot make a producer.
  Publisher(PublisherSettings settings, breaker::CircuitBreaker& breaker, PublisherHooks hooks);
  ~Publisher();  // stop()
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  void start();
  // Stops reading new rows, waits for the deliveries in flight, marks them and
  // closes the session (releasing its buckets). Idempotent.
  void stop();

  PublisherStats stats() const;

 private:
  struct Loop;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
};

}  // namespace outflow::agent::publisher
