#pragma once

// The publisher's loop, private to agent/publisher: its state and the steps
// it takes. Split by concern over publisher.cpp (claim, send and wait),
// publisher_settle.cpp (settling the window and recording marks) and
// publisher_kafka_health.cpp (breaker, silence, standing down, probing).

#include "agent/publisher/publisher.h"

#include "agent/publisher/batch.h"
#include "agent/publisher/claim_pacer.h"
#include "agent/publisher/delivery_outcome.h"
#include "agent/publisher/drain_window.h"
#include "agent/publisher/error_board.h"
#include "agent/publisher/housekeeper.h"
#include "agent/publisher/in_flight_batch.h"
#include "agent/publisher/kafka_producer.h"
#include "agent/publisher/mark_session.h"
#include "agent/publisher/topic_limits.h"
#include "common/event_fd.h"
#include "common/kafka/admin.h"
#include "common/kafka/producer_settings.h"

#include <algorithm>
#include <deque>
#include <set>

namespace outflow::agent::publisher {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

template <typename T>
void call_hook(const std::function<T>& hook, auto&&... args) {
  if (hook) hook(std::forward<decltype(args)>(args)...);
}

struct Publisher::Loop {
  Loop(PublisherSettings s, breaker::CircuitBreaker& b, PublisherHooks h)
      : settings(std::move(s)),
        breaker(b),
        hooks(std::move(h)),
        store(settings.database_url, settings.spec.outbox),
        marks(settings.database_url),
        housekeeper(
            HousekeeperSettings{settings.database_url, settings.spec.outbox, settings.backlog_interval,
                                settings.prune, settings.reconnect_initial, settings.reconnect_max},
            [this](const Backlog& backlog) {
              call_hook(hooks.backlog, backlog);
              std::lock_guard lock(stats_mutex);
              stats.backlog = backlog;
            }),
        admin(kafka::make_client(RD_KAFKA_PRODUCER,
                                 kafka::make_conf(kafka::client_properties(settings.kafka)))) {
    for (const auto& t : settings.spec.topics) topics.push_back(t.name);
    if (settings.stand_down_after.count() <= 0) {
      settings.stand_down_after = milliseconds(2LL * settings.kafka.request_timeout_ms);
    }
  }

  PublisherSettings settings;
  breaker::CircuitBreaker& breaker;
  PublisherHooks hooks;
  OutboxStore store;
  // Records acknowledged rows as published on a session of its own, while
  // `store` reads the next batch (mark_session.h).
  MarkSession marks;
  // Counts the backlog and prunes on a session and thread of its own, so
  // neither ever waits for (or holds up) the publishing loop.
  Housekeeper housekeeper;
  std::vector<std::string> topics;
  // Reads the topics' limits: a client of its own, so describing topics
  // never waits behind (or purges with) the producer's messages.
  kafka::ClientHandle admin;
  std::unique_ptr<KafkaProducer> producer;  // made once the limits are known
  std::optional<TopicLimitMap> limits;
  Clock::time_point next_limits{};
  // The stopping thread signals it, so a publisher waiting in poll() for
  // NOTIFY wakes at once instead of at the end of its poll interval.
  EventFd waker;
  std::atomic<bool> stopping{false};

  // Batches Kafka has not fully reported on, oldest first; settled in that
  // order. More than one only while a chain drains a backlog (drain_window.h).
  std::deque<InFlightBatch> window;
  std::uint64_t batches_started = 0;
  // After a refusal, rows up to this id are sent one at a time, so a refused
  // record batch tells which of its rows (if any) the broker refuses alone.
  std::int64_t solo_until_id = 0;
  // The chain the window belongs to (drain_window.h).
  DrainSettings drain_settings;
  std::optional<Clock::time_point> chain_started;
  std::int64_t chain_high = 0;        // the highest id the chain has read
  bool chain_trouble = false;         // a row of the chain must be read again from the floor
  bool last_claim_full = false;
  bool last_claim_quiet = false;
  std::set<std::string> chain_stuck;  // keys the chain left a row of unpublished
  ClaimPacer pacer;
  std::optional<Clock::time_point> paced_until;    // a claim waits for the pacer until then
  std::optional<Clock::time_point> last_report_at;  // Kafka's last accepted report, any batch

  // Acknowledged by Kafka but not yet recorded in the outbox: not yet sent,
  // and sent to the mark session with no answer yet.
  Settlement unsettled;
  Settlement marking;
  ErrorBoard errors;
  bool undeclared_rechecked = false;
  std::set<std::int64_t> waiting_logged;  // rows whose wait was logged once
  milliseconds reconnect_delay{0};
  Clock::time_point next_connect{};
  Clock::time_point next_rebalance{};
  std::optional<Clock::time_point> unhealthy_since;  // breaker away from Closed since
  bool standing_down = false;
  Clock::time_point next_probe{};

  mutable std::mutex stats_mutex;
  PublisherStats stats;

  void run();
  bool step();  // false: nothing to do right now, wait
  void wait(Clock::time_point now);
  void ensure_connected();
  bool ensure_kafka(Clock::time_point now);
  // Records what is acknowledged without waiting for the published marks.
  void flush_unsettled();
  // Collects the mark session's answer, waiting for it or not; a failed
  // mark's rows go back to `unsettled` and the failure is thrown.
  void collect_marks(bool wait);
  // Everything acknowledged is recorded when it returns.
  void flush_all_marks();
  bool marks_pending() const;
  // Plans and queues a batch; true when some of its rows wait (undeclared topic).
  bool send_batch(std::vector<OutboxRow> rows);
  void on_report(std::uint64_t token, Outcome outcome);
  void watch_in_flight(Clock::time_point now);
  // Settles the oldest batch of the window (complete, or abandoned).
  void finish_batch();
  void settle_completed();
  // The producer is about to be replaced (its messages purged): every batch
  // still waiting gives up on its reports and is settled as it stands.
  void give_up_window();
  std::size_t awaiting() const;
  void watch_breaker(Clock::time_point now);
  void stand_down(Clock::time_point now);
  void probe(Clock::time_point now);
  void record_settlement(const Settlement& s);
  void housekeeping(Clock::time_point now);
  void idle_wait(Clock::time_point now);
  void database_failed(const std::exception& e);
  void drain();
  void feed_breaker(BreakerVerdict verdict);
  void report_transition(const std::optional<breaker::Transition>& t) {
    if (t) call_hook(hooks.breaker_transition, *t);
  }
  void raise(ErrorSource source, const std::string& message) {
    errors.raise(source, message, std::chrono::system_clock::now());
    publish_error();
  }
  void clear(ErrorSource source) {
    if (!errors.active(source)) return;
    errors.clear(source);
    publish_error();
  }
  void publish_error() {
    const auto shown = errors.current();
    std::lock_guard lock(stats_mutex);
    stats.last_error = shown ? shown->message : "";
    stats.last_error_at = shown ? shown->since : std::chrono::system_clock::time_point{};
  }
};

}  // namespace outflow::agent::publisher
