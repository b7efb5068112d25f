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

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <set>

namespace outflow::agent::publisher {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

template <typename T>
void call(const std::function<T>& hook, auto&&... args) {
  if (hook) hook(std::forward<decltype(args)>(args)...);
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// How long one wait for delivery reports lasts before the loop turns again.
constexpr milliseconds kReportWait{50};
// Kafka errors stay on the status until Kafka answers again; while one is
// shown, the topic limits (one cheap request) are read this often to find out.
constexpr milliseconds kKafkaErrorRecheck{5000};
// The longest a stood-down replica's reachability probe may take.
constexpr milliseconds kProbeTimeout{5000};

}  // namespace

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
              call(hooks.backlog, backlog);
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
    if (t) call(hooks.breaker_transition, *t);
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

void Publisher::Loop::database_failed(const std::exception& e) {
  // Any statement failure drops the session: its locks may be gone, and a
  // fresh session re-derives everything (buckets, LISTEN) from scratch. The
  // back-off only resets once a statement succeeds again (a claim), so a
  // missing table or a failing statement backs off like a refused connection.
  store.disconnect();
  housekeeper.set_owned({});
  chain_trouble = true;  // whatever the chain read is read again from the floor
  reconnect_delay = std::clamp(reconnect_delay * 2, settings.reconnect_initial, settings.reconnect_max);
  next_connect = Clock::now() + reconnect_delay;
  spdlog::warn("outbox database: {}; reconnecting in {} ms", e.what(), reconnect_delay.count());
  raise(ErrorSource::Database, e.what());
  std::lock_guard lock(stats_mutex);
  stats.database_connected = false;
  stats.owned_buckets = 0;
}

void Publisher::Loop::ensure_connected() {
  if (store.connected()) return;
  store.connect();
  spdlog::info("outbox database connected (table {})", settings.spec.outbox.table);
  next_rebalance = Clock::time_point{};  // due in this very step
  if (!undeclared_rechecked) {
    // Rows set aside because their topic was not declared may have been
    // waiting for exactly the config this agent now runs: look again.
    const auto released = store.release_undeclared_topic_rows();
    if (released > 0) spdlog::info("{} row(s) set aside for an undeclared topic are checked again", released);
    undeclared_rechecked = true;
  }
  std::lock_guard lock(stats_mutex);
  stats.database_connected = true;
}

// The topics' real limits come first: they bound the producer's record
// batches, so the producer is made (and remade when they change) after them.
bool Publisher::Loop::ensure_kafka(Clock::time_point now) {
  if (!limits || now >= next_limits) {
    try {
      const auto described = kafka::describe_topics(admin.get(), topics, milliseconds(settings.kafka.request_timeout_ms));
      TopicLimitMap fresh;
      for (const auto& [name, topic] : described) {
        fresh[name] = TopicLimits{topic.max_message_bytes.value_or(0), topic.compacted};
      }
      if (limits && *limits != fresh) spdlog::info("destination topics' limits changed; the producer follows");
      limits = std::move(fresh);
      next_limits = now + settings.limits_refresh;
      clear(ErrorSource::Kafka);
    } catch (const kafka::AdminError& e) {
      next_limits = now + (limits ? kKafkaErrorRecheck : settings.reconnect_max);
      raise(ErrorSource::Kafka, fmt::format("Kafka: cannot read the topics' limits: {}", e.what()));
      if (!limits) {
        // Nothing can be sent safely without them; an unanswered request
        // is Kafka's silence, as for a message.
        report_transition(breaker.trip());
        return false;
      }
    }
  }
  if (errors.active(ErrorSource::Kafka)) next_limits = std::min(next_limits, now + kKafkaErrorRecheck);
  const auto bounds = producer_bounds(*limits);
  if (producer && producer->bounds() != bounds && window.empty()) {
    spdlog::info("producer record batches now bounded at {} bytes, messages at {}", bounds.batch_bytes,
                 bounds.message_max_bytes);
    producer.reset();
  }
  if (!producer) {
    producer = std::make_unique<KafkaProducer>(settings.kafka, topics, bounds,
                                               [this](std::uint64_t token, Outcome outcome) {
                                                 on_report(token, std::move(outcome));
                                               });
  }
  return true;
}

void Publisher::Loop::feed_breaker(BreakerVerdict verdict) {
  if (verdict == BreakerVerdict::Success) report_transition(breaker.record_success());
  if (verdict == BreakerVerdict::Failure) report_transition(breaker.record_failure());
}

void Publisher::Loop::on_report(std::uint64_t token, Outcome outcome) {
  const auto decoded = decode(token);
  if (!decoded) return;
  const auto batch = std::find_if(window.begin(), window.end(),
                                  [&](const InFlightBatch& b) { return b.number() == decoded->batch; });
  if (batch == window.end()) return;  // stale: its batch is gone
  const auto verdict = breaker_verdict(outcome);
  const bool delivered = std::holds_alternative<Delivered>(outcome);
  const auto now = Clock::now();
  if (!batch->report(token, std::move(outcome), now)) return;  // a repeat
  last_report_at = now;
  feed_breaker(verdict);
  if (delivered) clear(ErrorSource::Kafka);
  // A complete batch is settled and marked while the later ones fly.
  if (batch->complete() && producer) producer->stop_waiting();
}

std::size_t Publisher::Loop::awaiting() const {
  std::size_t n = 0;
  for (const auto& b : window) n += b.awaiting();
  return n;
}

void Publisher::Loop::record_settlement(const Settlement& s) {
  if (!s.published.empty()) call(hooks.published, s.published.size(), s.latencies_seconds);
  if (!s.poison.empty()) call(hooks.poisoned, s.poison.size());
  std::lock_guard lock(stats_mutex);
  stats.published_total += static_cast<std::int64_t>(s.published.size());
  stats.poison_total += static_cast<std::int64_t>(s.poison.size());
}

void Publisher::Loop::flush_unsettled() {
  collect_marks(false);
  if (!unsettled.poison.empty()) {
    // Rare, and the row's reason goes with it: on the publisher's own session.
    store.mark_poison(unsettled.poison);
    for (const auto& [id, reason] : unsettled.poison) {
      spdlog::warn("outbox row {} set aside as poison: {}", id, reason);
    }
    Settlement poisoned;
    poisoned.poison = std::move(unsettled.poison);
    unsettled.poison.clear();
    record_settlement(poisoned);
  }
  // One mark at a time: what is acknowledged meanwhile goes with the next.
  if (unsettled.published.empty() || marks.busy()) return;
  marks.start(store.mark_published_sql(), unsettled.published);
  marking = std::move(unsettled);
  unsettled = Settlement{};
}

void Publisher::Loop::collect_marks(bool wait) {
  if (!marks.busy()) return;
  try {
    if (wait) {
      marks.finish();
    } else if (!marks.poll()) {
      return;
    }
  } catch (...) {
    unsettled.published.insert(unsettled.published.begin(), marking.published.begin(), marking.published.end());
    unsettled.latencies_seconds.insert(unsettled.latencies_seconds.begin(), marking.latencies_seconds.begin(),
                                       marking.latencies_seconds.end());
    marking = Settlement{};
    throw;
  }
  record_settlement(marking);
  marking = Settlement{};
}

void Publisher::Loop::flush_all_marks() {
  collect_marks(true);
  flush_unsettled();
  collect_marks(true);
}

bool Publisher::Loop::marks_pending() const {
  return !unsettled.published.empty() || !unsettled.poison.empty() || marks.busy();
}

void Publisher::Loop::housekeeping(Clock::time_point now) {
  if (now < next_rebalance) return;
  store.rebalance();
  housekeeper.set_owned(store.owned());
  next_rebalance = now + settings.rebalance_interval;
  std::lock_guard lock(stats_mutex);
  stats.owned_buckets = store.owned().size();
}

bool Publisher::Loop::send_batch(std::vector<OutboxRow> rows) {
  PlanContext context{*limits, wall_ms(), settings.undeclared_topic_grace.count()};
  auto plan = plan_batch(rows, settings.spec, context);
  for (const auto& [id, why] : plan.waiting) {
    if (waiting_logged.size() > 10000) waiting_logged.clear();
    if (waiting_logged.insert(id).second) spdlog::warn("row {}: {}", id, why);
  }
  const auto now = Clock::now();
  auto& batch = window.emplace_back(++batches_started, std::move(rows), std::move(plan.outcomes), now);
  std::set<std::string> held_back;  // keys with an earlier row of this batch not queued
  bool refused = false;
  std::size_t queued = 0;
  for (auto& [index, message] : plan.to_send) {
    const auto& row = batch.rows()[index];
    if (refused || (row.key && held_back.contains(*row.key))) continue;  // stays NotSent
    const auto permission = breaker.allow();
    report_transition(permission.transition);
    if (!permission.allowed) {
      refused = true;
      continue;
    }
    const auto token = batch.sent(index, now);
    auto immediate = producer->send(row, message, token);
    if (!immediate) {
      ++queued;
      continue;
    }
    feed_breaker(breaker_verdict(*immediate));
    // A full queue means Kafka is not keeping up; adding more only makes it worse.
    if (const auto* failed = std::get_if<Failed>(&*immediate)) {
      refused = true;
      raise(ErrorSource::Kafka, fmt::format("Kafka: {}", failed->error));
    }
    batch.settled_now(index, std::move(*immediate));
    if (row.key) held_back.insert(*row.key);
  }
  // A row that did not go out (poison, waiting, held back, refused) is read
  // again from the floor: nothing more of this chain is read until then.
  if (queued < batch.rows().size()) chain_trouble = true;
  producer->flush(milliseconds(0));
  return !plan.waiting.empty();
}

void Publisher::Loop::watch_in_flight(Clock::time_point now) {
  // Kafka is silent only if no batch heard anything: a report for any of
  // them is an answer.
  std::optional<Clock::duration> quiet;
  for (const auto& b : window) {
    if (!b.complete()) quiet = std::min(quiet.value_or(Clock::duration::max()), b.silence(now));
  }
  if (!quiet) return;
  const auto silence = last_report_at ? std::min(*quiet, now - *last_report_at) : *quiet;
  if (silence < milliseconds(settings.kafka.request_timeout_ms)) return;
  // A whole request timeout without a single report: the cluster is not
  // answering. That is an outage whatever the window holds, and the default
  // alert must fire within requestTimeoutMs of it. Tripping an open breaker
  // changes nothing; a half-open one whose trial is this silence reopens.
  const auto transition = breaker.trip();
  if (!transition) return;
  const auto message = fmt::format("Kafka acknowledged nothing for {} ms while {} message(s) waited",
                                   std::chrono::duration_cast<milliseconds>(silence).count(), awaiting());
  spdlog::warn("{}", message);
  raise(ErrorSource::Kafka, message);
  report_transition(transition);
}

void Publisher::Loop::finish_batch() {
  const auto& batch = window.front();
  const bool solo = batch.rows().size() == 1 && batch.rows().front().id <= solo_until_id;
  auto outcomes = batch.outcomes();
  if (solo) {
    if (const auto* refused = std::get_if<Refused>(&outcomes.front())) {
      // Alone, it cannot be another row's fault. A producer that stopped for
      // good is the row's fault only when what stopped it was the broker
      // refusing this very message (the gapless guarantee turns that into a
      // fatal error).
      const auto cause = producer ? producer->fatal_cause() : RD_KAFKA_RESP_ERR_NO_ERROR;
      if (refused->message_at_fault) {
        outcomes.front() = Poison{fmt::format("{} (sent alone)", refused->error)};
      } else if (kafka::is_permanent_for_message(cause)) {
        outcomes.front() = Poison{fmt::format("the broker refused it: {} (sent alone)", rd_kafka_err2str(cause))};
      }
    }
  }
  auto settlement = settle(batch.rows(), outcomes, chain_stuck);
  for (const auto& key : settlement.overtaken_keys) {
    spdlog::error("order of key \"{}\" broken: a later row was acknowledged before an earlier one", key);
  }
  // A refusal may mean the topics' limits changed under us: read them again
  // before the next batch.
  if (settlement.refused > 0) next_limits = Clock::now();
  if (settlement.refused > 0 && !solo) {
    solo_until_id = std::max(solo_until_id, batch.rows().back().id);
    spdlog::warn("the broker refused {} message(s) of a batch ({}); sending rows up to id {} one at a time to "
                 "find which it refuses alone",
                 settlement.refused, settlement.last_error, solo_until_id);
  }
  // Kept until the outbox has it: if the marks fail, they are retried before
  // anything else is read.
  unsettled.published.insert(unsettled.published.end(), settlement.published.begin(), settlement.published.end());
  unsettled.poison.insert(unsettled.poison.end(), settlement.poison.begin(), settlement.poison.end());
  unsettled.latencies_seconds.insert(unsettled.latencies_seconds.end(), settlement.latencies_seconds.begin(),
                                     settlement.latencies_seconds.end());
  if (settlement.failed + settlement.refused + settlement.not_sent + settlement.poison.size() > 0) {
    chain_trouble = true;
  }
  window.pop_front();
  if (producer && producer->fatal()) {
    spdlog::warn("replacing the Kafka producer after a fatal error; its unacknowledged rows stay pending");
    const auto dying = std::move(producer);  // purged when this scope ends: no report reaches anyone
    give_up_window();
  }
}

void Publisher::Loop::settle_completed() {
  while (!window.empty() && window.front().complete()) finish_batch();
}

void Publisher::Loop::give_up_window() {
  chain_trouble = true;
  std::size_t unanswered = 0;
  for (auto& b : window) {
    unanswered += b.awaiting();
    b.abandon();
  }
  while (!window.empty()) finish_batch();
  // A half-open trial among them will never be answered now. Were it left
  // outstanding, the breaker would keep its permits spent and this replica
  // would take its buckets back and publish nothing, for good.
  if (unanswered > 0) report_transition(breaker.abandon_outstanding());
}

void Publisher::Loop::watch_breaker(Clock::time_point now) {
  const auto snapshot = breaker.snapshot();
  report_transition(snapshot.transition);
  if (snapshot.state == breaker::State::Closed) {
    unhealthy_since.reset();
    return;
  }
  if (!unhealthy_since) unhealthy_since = now;
  // The breaker is shared with the replayer: stand down only when this
  // publisher has seen Kafka fail it too, not for the replayer's trouble alone.
  if (!standing_down && errors.active(ErrorSource::Kafka) && now - *unhealthy_since >= settings.stand_down_after) {
    stand_down(now);
  }
}

// Kafka has been unreachable from here for standDownAfter: stop holding a
// share of the outbox that other replicas may well be able to publish.
void Publisher::Loop::stand_down(Clock::time_point now) {
  spdlog::warn("Kafka unreachable from this replica for {} s: giving up its outbox buckets so healthy replicas "
               "publish them; probing Kafka every {} ms",
               std::chrono::duration_cast<std::chrono::seconds>(now - *unhealthy_since).count(),
               settings.spec.circuit_breaker.open_duration_ms);
  give_up_window();
  // Purged: none of this replica's messages can reach Kafka after the
  // rows' new owner sends them.
  producer.reset();
  try {
    if (store.connected()) flush_all_marks();
  } catch (const std::exception& e) {
    spdlog::warn("could not mark acknowledged rows before standing down ({}); they will be sent again", e.what());
    unsettled = Settlement{};
    marking = Settlement{};
    marks.disconnect();
  }
  store.leave();
  housekeeper.set_owned({});
  standing_down = true;
  next_probe = now + milliseconds(settings.spec.circuit_breaker.open_duration_ms);
  std::lock_guard lock(stats_mutex);
  stats.standing_down = true;
  stats.database_connected = false;
  stats.owned_buckets = 0;
}

void Publisher::Loop::probe(Clock::time_point now) {
  if (now < next_probe) return;
  next_probe = now + milliseconds(settings.spec.circuit_breaker.open_duration_ms);
  const auto timeout = std::min(milliseconds(settings.kafka.request_timeout_ms), kProbeTimeout);
  next_limits = now;  // read them afresh: this is the probe's first request
  if (!ensure_kafka(now) || !producer->reachable(timeout)) return;
  spdlog::info("Kafka reachable again: taking outbox buckets back");
  standing_down = false;
  unhealthy_since.reset();
  next_connect = now;
  std::lock_guard lock(stats_mutex);
  stats.standing_down = false;
}

// Idle, a publisher does what pollIntervalMs asks and no more: it sleeps
// until a commit to its table (NOTIFY), a replica joining or leaving, the
// breaker's trial, or the poll interval, then claims (and rebalances) once.
void Publisher::Loop::idle_wait(Clock::time_point now) {
  const auto poll_interval = milliseconds(settings.spec.outbox.poll_interval_ms);
  auto until = now + poll_interval;
  const auto snapshot = breaker.snapshot();
  report_transition(snapshot.transition);
  if (snapshot.state == breaker::State::Open) {
    until = std::min(until, snapshot.since + milliseconds(settings.spec.circuit_breaker.open_duration_ms));
  }
  const auto timeout =
      std::clamp(std::chrono::duration_cast<milliseconds>(until - now), milliseconds(1), poll_interval);
  const auto news = store.wait_for_news(timeout, waker.fd());
  if (news.members) next_rebalance = Clock::time_point{};
}

bool Publisher::Loop::step() {
  const auto now = Clock::now();
  if (producer) {
    producer->poll(milliseconds(0));
    for (int n = producer->take_all_brokers_down(); n > 0; --n) feed_breaker(BreakerVerdict::Failure);
    if (!producer->last_error().empty()) {
      raise(ErrorSource::Kafka, producer->last_error());
      producer->clear_error();
    }
  }
  settle_completed();
  if (!window.empty()) watch_in_flight(now);
  watch_breaker(now);
  if (standing_down) {
    probe(now);
    return false;
  }
  if (!store.connected()) {
    if (now < next_connect) return false;
    ensure_connected();
  }
  // Every settled batch is marked at once, on the mark session, while the
  // later ones fly and the next claim runs: nothing acknowledged waits on a
  // claim, and no claim waits on a mark.
  flush_unsettled();
  if (window.empty()) {
    // A claim from the floor comes next, and must not read rows whose mark
    // is on its way; buckets change only with nothing in flight or unmarked.
    flush_all_marks();
    housekeeping(now);
  }
  if (!ensure_kafka(now)) return false;

  const auto snapshot = breaker.snapshot();
  report_transition(snapshot.transition);
  if (snapshot.state == breaker::State::Open) return false;  // the outbox just grows
  DrainState state;
  state.in_flight = window.size();
  state.marks_pending = marks_pending();
  state.last_claim_full = last_claim_full;
  state.last_claim_quiet = last_claim_quiet;
  state.trouble = chain_trouble || solo_until_id > 0;
  state.breaker_closed = snapshot.state == breaker::State::Closed;
  state.rebalance_due = now >= next_rebalance;
  state.chain_started = chain_started;
  const auto next = next_claim(state, drain_settings, now);
  if (next == NextClaim::Wait) return false;
  if (next == NextClaim::FromFloor && !last_claim_full) {
    // Caught up: under a NOTIFY storm, one claim per pacer gap.
    const auto at = pacer.earliest(now);
    if (at > now) {
      paced_until = at;
      return false;
    }
  }
  paced_until.reset();
  // HalfOpen: read only as many rows as the breaker has trial permits for.
  int limit = snapshot.state == breaker::State::HalfOpen ? settings.spec.circuit_breaker.half_open_calls
                                                         : settings.spec.outbox.batch_size;
  if (solo_until_id > 0) limit = 1;
  std::vector<OutboxRow> rows;
  if (next == NextClaim::FromFloor) {
    chain_started = now;
    chain_high = 0;
    chain_trouble = false;
    chain_stuck.clear();
    rows = store.claim(limit);
  } else {
    rows = store.claim_after(limit, chain_high);
  }
  pacer.claimed(now, rows.size());
  {
    std::lock_guard lock(stats_mutex);
    ++stats.claims_total;
    if (next == NextClaim::AfterChain) ++stats.read_ahead_total;
  }
  reconnect_delay = milliseconds{0};  // a statement went through
  clear(ErrorSource::Database);
  last_claim_quiet = store.last_claim_quiet();
  last_claim_full = static_cast<int>(rows.size()) >= limit;
  if (!rows.empty() && rows.front().id > solo_until_id) solo_until_id = 0;
  if (rows.empty()) return false;
  chain_high = std::max(chain_high, rows.back().id);
  const bool waiting = send_batch(std::move(rows));
  if (!window.back().complete()) return true;  // on to the next batch of the chain, or to the reports
  // Nothing went to Kafka (all poison or waiting): settle it now. Rows that
  // wait for a config are read again at the next poll, not in a tight loop.
  settle_completed();
  return last_claim_full && !waiting;
}

void Publisher::Loop::wait(Clock::time_point now) {
  if (!window.empty() && producer) {
    // Returns as soon as a batch is complete (stop_waiting), or when all are.
    producer->flush(kReportWait);
  } else if (standing_down) {
    waker.wait(static_cast<int>(std::clamp(std::chrono::duration_cast<milliseconds>(next_probe - now), milliseconds(1),
                           milliseconds(1000)).count()));
  } else if (paced_until && store.connected()) {
    const auto left = std::chrono::ceil<milliseconds>(*paced_until - now);
    if (producer) {
      producer->poll(std::max(left, milliseconds(0)));
    } else {
      waker.wait(static_cast<int>(std::max(left, milliseconds(0)).count()));
    }
  } else if (store.connected()) {
    idle_wait(now);
  } else {
    // Waiting out the reconnect back-off, still serving Kafka callbacks.
    const auto timeout = std::clamp(std::chrono::duration_cast<milliseconds>(next_connect - now), milliseconds(1),
                                    milliseconds(100));
    if (producer) {
      producer->poll(timeout);
    } else {
      waker.wait(static_cast<int>(timeout.count()));
    }
  }
}

void Publisher::Loop::run() {
  while (!stopping.load()) {
    {
      std::lock_guard lock(stats_mutex);
      stats.loop_heartbeat = Clock::now();
    }
    try {
      if (step()) continue;
      wait(Clock::now());
    } catch (const pg::Error& e) {
      database_failed(e);
    } catch (const std::exception& e) {
      // Anything else is a bug or a resource failure; log it and keep the
      // loop alive behind the same back-off rather than crash-looping the pod.
      spdlog::error("publisher: {}", e.what());
      database_failed(e);
    }
  }
  drain();
}

void Publisher::Loop::drain() {
  const auto deadline = Clock::now() + settings.drain_timeout;
  // Reports still due for the batch in flight are waited for (bounded), then
  // whatever has none is given up: those rows stay pending.
  auto incomplete = [&] {
    return std::any_of(window.begin(), window.end(), [](const InFlightBatch& b) { return !b.complete(); });
  };
  while (incomplete() && producer && Clock::now() < deadline) producer->flush(kReportWait);
  settle_completed();
  give_up_window();
  producer.reset();
  while (marks_pending()) {
    try {
      ensure_connected();
      flush_all_marks();
    } catch (const std::exception& e) {
      if (Clock::now() >= deadline) {
        spdlog::warn("stopping with {} acknowledged row(s) unmarked ({}); they will be sent again",
                     unsettled.published.size(), e.what());
        break;
      }
      store.disconnect();
      std::this_thread::sleep_for(milliseconds(200));
    }
  }
  // Tells the other replicas, so they take the buckets at once.
  store.leave();
  housekeeper.set_owned({});
  std::lock_guard lock(stats_mutex);
  stats.database_connected = false;
  stats.owned_buckets = 0;
}

Publisher::Publisher(PublisherSettings settings, breaker::CircuitBreaker& breaker, PublisherHooks hooks)
    : loop_(std::make_unique<Loop>(std::move(settings), breaker, std::move(hooks))) {
  loop_->stats.loop_heartbeat = Clock::now();
}

Publisher::~Publisher() { stop(); }

void Publisher::start() {
  if (thread_.joinable()) return;
  loop_->housekeeper.start();
  thread_ = std::thread([this] { loop_->run(); });
}

void Publisher::stop() {
  loop_->stopping.store(true);
  loop_->waker.signal();
  if (thread_.joinable()) thread_.join();
  loop_->housekeeper.stop();
}

PublisherStats Publisher::stats() const {
  std::lock_guard lock(loop_->stats_mutex);
  auto copy = loop_->stats;
  return copy;
}

}  // namespace outflow::agent::publisher
