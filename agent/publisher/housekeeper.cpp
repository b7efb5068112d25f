#include "agent/publisher/housekeeper.h"

#include "agent/postgres/array_literal.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

namespace outflow::agent::publisher {
namespace {

std::optional<std::int64_t> nullable_int(const pg::Result& r, int column) {
  if (r.is_null(0, column)) return std::nullopt;
  return std::stoll(std::string(r.value(0, column)));
}

}  // namespace

Housekeeper::Housekeeper(HousekeeperSettings settings, BacklogCallback on_backlog)
    : settings_(std::move(settings)),
      on_backlog_(std::move(on_backlog)),
      prune_schedule_(settings_.prune, Clock::now()) {}

Housekeeper::~Housekeeper() { stop(); }

void Housekeeper::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void Housekeeper::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Housekeeper::set_owned(std::set<int> buckets) {
  {
    std::lock_guard lock(mutex_);
    if (owned_ == buckets) return;
    owned_ = std::move(buckets);
  }
  // A new share is counted at once rather than at the next interval.
  next_owned_change_.store(true);
  wake_.notify_all();
}

std::optional<Backlog> Housekeeper::backlog() const {
  std::lock_guard lock(mutex_);
  return stats_.backlog;
}

HousekeeperStats Housekeeper::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Housekeeper::connect() {
  auto conn = pg::Connection::open(settings_.database_url, session_defaults("outflow-agent-housekeeper"));
  // Steps are sized to a fraction of the prune budget; the timeout only
  // guards against a statement stuck on a lock.
  conn.run_script("SET statement_timeout = '30s'; SET lock_timeout = '5s'");
  const auto table = resolve_outbox_table(conn, settings_.outbox.table);
  sql_ = outbox_sql(settings_.outbox, kBucketCount, table.quoted());
  conn_.emplace(std::move(conn));
  std::lock_guard lock(mutex_);
  stats_.connected = true;
}

void Housekeeper::count_backlog(const std::set<int>& owned) {
  const auto started = Clock::now();
  Backlog backlog;
  if (!owned.empty()) {
    const auto r = conn_->exec(sql_->backlog, {{pg::array_literal(std::vector<int>(owned.begin(), owned.end()))}});
    backlog.rows = std::stoll(std::string(r.value(0, 0)));
    if (!r.is_null(0, 1)) backlog.oldest_age_seconds = std::max<std::int64_t>(0, std::stoll(std::string(r.value(0, 1))));
  }
  const auto now = Clock::now();
  // Counting is proportional to the backlog: a huge one is counted at most
  // 5% of the time, so the gauge never becomes the database's main load.
  next_backlog_ = started + std::max<Clock::duration>(settings_.backlog_interval, (now - started) * 20);
  {
    std::lock_guard lock(mutex_);
    stats_.backlog = backlog;
    stats_.backlog_at = now;
  }
  if (on_backlog_) on_backlog_(backlog);
}

void Housekeeper::prune() {
  const auto started = Clock::now();
  prune_schedule_.begin_run(started);
  long pruned = 0;
  try {
    while (true) {
      {
        std::lock_guard lock(mutex_);
        if (stopping_) break;
      }
      const auto t = Clock::now();
      const auto r = conn_->exec(sql_->prune_step, {{std::to_string(prune_schedule_.cursor())},
                                                    {std::to_string(prune_schedule_.batch())},
                                                    {std::to_string(settings_.outbox.published_retention_ms)}});
      PruneStep step;
      step.deleted = std::stol(std::string(r.value(0, 0)));
      step.scanned = std::stol(std::string(r.value(0, 1)));
      step.last_id = nullable_int(r, 2);
      step.first_recent = nullable_int(r, 3);
      step.all_created_after_cutoff = r.value(0, 4) == "t";
      pruned += step.deleted;
      const auto now = Clock::now();
      if (!prune_schedule_.record(step, now - t, now)) break;
    }
  } catch (...) {
    prune_schedule_.failed(Clock::now());
    throw;
  }
  if (pruned > 0) {
    spdlog::debug("pruned {} published outbox row(s) past retention in {} ms", pruned,
                  std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
  }
  std::lock_guard lock(mutex_);
  stats_.pruned_total += pruned;
}

void Housekeeper::failed(const std::exception& e) {
  conn_.reset();
  reconnect_delay_ = std::clamp(reconnect_delay_ * 2, settings_.reconnect_initial, settings_.reconnect_max);
  next_connect_ = Clock::now() + reconnect_delay_;
  spdlog::warn("outbox housekeeping: {}; reconnecting in {} ms", e.what(), reconnect_delay_.count());
  std::lock_guard lock(mutex_);
  stats_.connected = false;
  stats_.last_error = e.what();
}

void Housekeeper::run() {
  while (true) {
    std::optional<std::set<int>> owned;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      owned = owned_;
    }
    if (next_owned_change_.exchange(false)) next_backlog_ = Clock::now();
    const auto now = Clock::now();
    try {
      if (!conn_ && now >= next_connect_) connect();
      if (conn_ && owned) {
        if (now >= next_backlog_) count_backlog(*owned);
        if (!settings_.outbox.delete_after_publish && owned->contains(0) && prune_schedule_.due(Clock::now())) {
          prune();
        }
        // Back-off grows until a statement succeeds, not merely a connect.
        reconnect_delay_ = std::chrono::milliseconds{0};
        std::lock_guard lock(mutex_);
        stats_.last_error.clear();
      }
    } catch (const std::exception& e) {
      failed(e);
    }

    auto until = Clock::now() + settings_.backlog_interval;
    if (!conn_) {
      until = next_connect_;
    } else if (owned) {
      until = std::min(until, next_backlog_);
      if (!settings_.outbox.delete_after_publish && owned->contains(0)) until = std::min(until, prune_schedule_.next_run());
    }
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, until, [this] { return stopping_ || next_owned_change_.load(); });
  }
  conn_.reset();
  std::lock_guard lock(mutex_);
  stats_.connected = false;
}

}  // namespace outflow::agent::publisher
