#include "agent/publisher/publisher.h"

#include "agent/publisher/publisher_loop.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace outflow::agent::publisher {
namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// How long one wait for delivery reports lasts before the loop turns again.
constexpr milliseconds kReportWait{50};
// Kafka errors stay on the status until Kafka answers again; while one is
// shown, the topic limits (one cheap request) are read this often to find out.
constexpr milliseconds kKafkaErrorRecheck{5000};

}  // namespace

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
  // Every commit to the outbox brings a NOTIFY, and libpq keeps each one
  // until it is taken. Busy, the loop never reaches its idle wait, so it
  // takes them here: it claims anyway, and only a replica joining or
  // leaving needs acting on.
  if (store.take_news().members) next_rebalance = Clock::time_point{};
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
