#pragma once

// The publisher's housekeeping on a PostgreSQL session and a thread of its
// own, so that neither a slow count nor a long prune ever delays publishing
// or costs the publishing session its bucket locks (a statement_timeout
// there drops them all):
//
// - refreshes the backlog and oldest-pending gauges of the buckets the
//   publisher owns every backlog_interval, whatever the publishing loop is
//   doing (e.g. waiting out a broker outage inside a batch);
// - prunes published rows past spec.outbox.publishedRetentionMs through the
//   primary key in budgeted steps (see prune_schedule.h), on the replica that
//   owns bucket 0, so pruning keeps pace with publishing.
//
// Threading: set_owned(), backlog() and stats() may be called from any
// thread; the backlog callback runs on the housekeeper's thread.

#include "agent/publisher/outbox_store.h"
#include "agent/publisher/prune_schedule.h"
#include "common/pipeline/spec.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

namespace outflow::agent::publisher {

struct HousekeeperSettings {
  std::string database_url;  // secret
  pipeline::OutboxSpec outbox;
  std::chrono::milliseconds backlog_interval{2000};
  PruneSettings prune;
  std::chrono::milliseconds reconnect_initial{200};
  std::chrono::milliseconds reconnect_max{5000};
};

struct HousekeeperStats {
  std::optional<Backlog> backlog;  // nullopt until counted once
  std::chrono::steady_clock::time_point backlog_at{};
  std::int64_t pruned_total = 0;
  bool connected = false;
  std::string last_error;  // empty once a statement succeeded again
};

class Housekeeper {
 public:
  using BacklogCallback = std::function<void(const Backlog&)>;
  Housekeeper(HousekeeperSettings settings, BacklogCallback on_backlog = {});
  ~Housekeeper();  // stop()
  Housekeeper(const Housekeeper&) = delete;
  Housekeeper& operator=(const Housekeeper&) = delete;

  void start();
  void stop();  // idempotent; interrupts a wait, not a running statement

  // The buckets the publisher owns now. Until the first call nothing is
  // counted (no owner yet) and nothing is pruned.
  void set_owned(std::set<int> buckets);
  std::optional<Backlog> backlog() const;
  HousekeeperStats stats() const;

 private:
  using Clock = std::chrono::steady_clock;
  void run();
  void connect();
  void count_backlog(const std::set<int>& owned);
  void prune();
  void failed(const std::exception& e);

  HousekeeperSettings settings_;
  BacklogCallback on_backlog_;
  std::thread thread_;

  mutable std::mutex mutex_;  // guards what follows up to the thread's own state
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<bool> next_owned_change_{false};  // set_owned() changed the set
  std::optional<std::set<int>> owned_;
  HousekeeperStats stats_;

  // The thread's own.
  std::optional<pg::Connection> conn_;
  std::optional<OutboxSql> sql_;
  PruneSchedule prune_schedule_;
  Clock::time_point next_backlog_{};
  Clock::time_point next_connect_{};
  std::chrono::milliseconds reconnect_delay_{0};
};

}  // namespace outflow::agent::publisher
