#include "agent/publisher/publisher.h"

#include "agent/publisher/batch.h"
#include "agent/publisher/kafka_producer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

namespace outflow::agent::publisher {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// An eventfd the stopping thread writes to, so a publisher waiting in poll()
// for NOTIFY wakes at once instead of at the end of its poll interval.
class Waker {
 public:
  Waker() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error("eventfd failed");
  }
  ~Waker() { ::close(fd_); }
  Waker(const Waker&) = delete;
  Waker& operator=(const Waker&) = delete;
  void wake() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

template <typename T>
void call(const std::function<T>& hook, auto&&... args) {
  if (hook) hook(std::forward<decltype(args)>(args)...);
}

}  // namespace

struct Publisher::Loop {
  Loop(PublisherSettings s, breaker::CircuitBreaker& b, PublisherHooks h)
      : settings(std::move(s)),
        breaker(b),
        hooks(std::move(h)),
        store(settings.database_url, settings.spec.outbox),
        producer(make_producer()) {}

  std::unique_ptr<KafkaProducer> make_producer() {
    std::vector<std::string> topics;
    for (const auto& t : settings.spec.topics) topics.push_back(t.name);
    return std::make_unique<KafkaProducer>(settings.kafka, topics, breaker, hooks.breaker_transition);
  }

  PublisherSettings settings;
  breaker::CircuitBreaker& breaker;
  PublisherHooks hooks;
  OutboxStore store;
  std::unique_ptr<KafkaProducer> producer;
  Waker waker;
  std::atomic<bool> stopping{false};

  // Acknowledged by Kafka but not yet recorded in the outbox.
  Settlement unsettled;
  std::string producer_error_seen;
  milliseconds reconnect_delay{0};
  Clock::time_point next_connect{};
  Clock::time_point next_rebalance{};
  Clock::time_point next_backlog{};
  Clock::time_point next_prune{};

  mutable std::mutex stats_mutex;
  PublisherStats stats;

  void run();
  bool step();  // false: nothing to do right now, wait
  void ensure_connected();
  void flush_unsettled();
  void publish_batch(const std::vector<OutboxRow>& rows);
  void record_settlement(const Settlement& s);
  void housekeeping(Clock::time_point now);
  void idle_wait(Clock::time_point now);
  void database_failed(const std::exception& e);
  void drain();
  void set_error(const std::string& error) {
    std::lock_guard lock(stats_mutex);
    stats.last_error = error;
  }
};

void Publisher::Loop::database_failed(const std::exception& e) {
  // Any statement failure drops the session: its locks may be gone, and a
  // fresh session re-derives everything (buckets, LISTEN) from scratch.
  store.disconnect();
  reconnect_delay = std::clamp(reconnect_delay * 2, settings.reconnect_initial, settings.reconnect_max);
  next_connect = Clock::now() + reconnect_delay;
  spdlog::warn("outbox database: {}; reconnecting in {} ms", e.what(), reconnect_delay.count());
  std::lock_guard lock(stats_mutex);
  stats.database_connected = false;
  stats.owned_buckets = 0;
  stats.last_error = e.what();
}

void Publisher::Loop::ensure_connected() {
  if (store.connected()) return;
  store.connect();
  spdlog::info("outbox database connected (table {})", settings.spec.outbox.table);
  reconnect_delay = milliseconds{0};
  next_rebalance = Clock::now();
  std::lock_guard lock(stats_mutex);
  stats.database_connected = true;
}

void Publisher::Loop::record_settlement(const Settlement& s) {
  if (!s.published.empty()) call(hooks.published, s.published.size(), s.latencies_seconds);
  if (!s.poison.empty()) call(hooks.poisoned, s.poison.size());
  std::lock_guard lock(stats_mutex);
  stats.published_total += static_cast<std::int64_t>(s.published.size());
  stats.poison_total += static_cast<std::int64_t>(s.poison.size());
}

void Publisher::Loop::flush_unsettled() {
  if (unsettled.published.empty() && unsettled.poison.empty()) return;
  store.mark_published(unsettled.published);
  store.mark_poison(unsettled.poison);
  for (const auto& [id, reason] : unsettled.poison) {
    spdlog::warn("outbox row {} set aside as poison: {}", id, reason);
  }
  record_settlement(unsettled);
  unsettled = Settlement{};
}

void Publisher::Loop::housekeeping(Clock::time_point now) {
  if (now >= next_rebalance) {
    store.rebalance();
    next_rebalance = now + settings.rebalance_interval;
    std::lock_guard lock(stats_mutex);
    stats.owned_buckets = store.owned().size();
  }
  if (now >= next_backlog) {
    const auto backlog = store.backlog();
    // Counting is proportional to the backlog; a huge one must not eat the
    // session's time, so the count runs at most 5% of the time.
    const auto took = Clock::now() - now;
    next_backlog = now + std::max<Clock::duration>(settings.backlog_interval, took * 20);
    call(hooks.backlog, backlog);
    std::lock_guard lock(stats_mutex);
    stats.backlog = backlog;
  }
  // One replica prunes: whoever owns bucket 0. Deleting published rows is
  // idempotent, this only keeps replicas from doing the same work.
  if (!settings.spec.outbox.delete_after_publish && now >= next_prune && store.owned().contains(0)) {
    next_prune = now + settings.prune_interval;
    long pruned = 0;
    for (int round = 0; round < 20; ++round) {
      const long n = store.prune(settings.spec.outbox.published_retention_ms, 5000);
      pruned += n;
      if (n < 5000) break;
    }
    if (pruned > 0) spdlog::info("pruned {} published outbox row(s) past retention", pruned);
  }
}

void Publisher::Loop::publish_batch(const std::vector<OutboxRow>& rows) {
  auto plan = plan_batch(rows, settings.spec);
  std::vector<Outgoing> outgoing;
  outgoing.reserve(plan.to_send.size());
  for (auto& [index, message] : plan.to_send) outgoing.push_back({&rows[index], std::move(message)});
  const auto sent = producer->publish(outgoing);
  for (std::size_t i = 0; i < sent.size(); ++i) plan.outcomes[plan.to_send[i].first] = sent[i];

  auto settlement = settle(rows, plan.outcomes);
  for (const auto& key : settlement.overtaken_keys) {
    spdlog::error("order of key \"{}\" broken: a later row was acknowledged before an earlier one", key);
  }
  if (!settlement.last_error.empty()) set_error(settlement.last_error);
  // Kept until the outbox has it: if the marks below fail, they are retried
  // before anything else is read.
  unsettled.published.insert(unsettled.published.end(), settlement.published.begin(), settlement.published.end());
  unsettled.poison.insert(unsettled.poison.end(), settlement.poison.begin(), settlement.poison.end());
  unsettled.latencies_seconds.insert(unsettled.latencies_seconds.end(), settlement.latencies_seconds.begin(),
                                     settlement.latencies_seconds.end());
  flush_unsettled();

  if (producer->fatal()) {
    spdlog::warn("replacing the Kafka producer after a fatal error");
    producer = make_producer();
  }
}

void Publisher::Loop::idle_wait(Clock::time_point now) {
  auto until = std::min(next_rebalance, now + milliseconds(settings.spec.outbox.poll_interval_ms));
  const auto snapshot = breaker.snapshot();
  if (snapshot.transition) call(hooks.breaker_transition, *snapshot.transition);
  if (snapshot.state == breaker::State::Open) {
    until = std::min(until, snapshot.since + milliseconds(settings.spec.circuit_breaker.open_duration_ms));
  }
  const auto timeout = std::clamp(std::chrono::duration_cast<milliseconds>(until - now), milliseconds(1),
                                  milliseconds(1000));
  store.wait(timeout, waker.fd());
}

bool Publisher::Loop::step() {
  const auto now = Clock::now();
  producer->poll(milliseconds(0));
  if (producer->last_error() != producer_error_seen) {
    producer_error_seen = producer->last_error();
    set_error(producer_error_seen);
  }
  if (!store.connected()) {
    if (now < next_connect) return false;
    ensure_connected();
  }
  flush_unsettled();
  housekeeping(now);

  const auto snapshot = breaker.snapshot();
  if (snapshot.transition) call(hooks.breaker_transition, *snapshot.transition);
  if (snapshot.state == breaker::State::Open) return false;  // the outbox just grows
  // HalfOpen: read only as many rows as the breaker has trial permits for.
  const int limit = snapshot.state == breaker::State::HalfOpen ? settings.spec.circuit_breaker.half_open_calls
                                                               : settings.spec.outbox.batch_size;
  const auto rows = store.claim(limit);
  if (rows.empty()) return false;
  publish_batch(rows);
  return static_cast<int>(rows.size()) >= limit;
}

void Publisher::Loop::run() {
  while (!stopping.load()) {
    {
      std::lock_guard lock(stats_mutex);
      stats.loop_heartbeat = Clock::now();
    }
    try {
      if (step()) continue;
      const auto now = Clock::now();
      if (store.connected()) {
        idle_wait(now);
      } else {
        // Waiting out the reconnect back-off, still serving Kafka callbacks.
        producer->poll(std::clamp(std::chrono::duration_cast<milliseconds>(next_connect - now),
                                  milliseconds(1), milliseconds(100)));
      }
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
  // publish() already waited for every report of the last batch; what is left
  // is recording them.
  const auto deadline = Clock::now() + settings.drain_timeout;
  while (!unsettled.published.empty() || !unsettled.poison.empty()) {
    try {
      ensure_connected();
      flush_unsettled();
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
  store.disconnect();
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
  thread_ = std::thread([this] { loop_->run(); });
}

void Publisher::stop() {
  loop_->stopping.store(true);
  loop_->waker.wake();
  if (thread_.joinable()) thread_.join();
}

PublisherStats Publisher::stats() const {
  std::lock_guard lock(loop_->stats_mutex);
  auto copy = loop_->stats;
  return copy;
}

}  // namespace outflow::agent::publisher
