#pragma once

// The publisher's one PostgreSQL session: it holds the membership and bucket
// advisory locks, LISTENs for new rows, reads pending rows of the buckets it
// owns and records what became of them. One session on purpose: the locks
// live and die with it, so a row is only ever read by the session that owns
// its bucket. Every method throws pg::Error; the caller drops the session and
// reconnects with back-off.

#include "agent/postgres/connection.h"
#include "agent/publisher/buckets.h"
#include "agent/publisher/outbox_row.h"
#include "agent/publisher/outbox_sql.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace outflow::agent::publisher {

// The channel hack/sql/outbox.sql's trigger notifies on commit.
inline constexpr const char* kNotifyChannel = "outflow_outbox";

struct Backlog {
  std::int64_t rows = 0;
  std::optional<std::int64_t> oldest_age_seconds;  // nullopt: nothing pending
};

class OutboxStore {
 public:
  OutboxStore(std::string database_url, const pipeline::OutboxSpec& outbox);

  // Opens the session, LISTENs and takes the membership lock. Buckets come
  // with rebalance().
  void connect();
  void disconnect();
  bool connected() const { return conn_.has_value(); }
  int socket() const;

  // Counts the live replicas and locks or unlocks buckets towards a fair share.
  // Returns true when the owned set changed.
  bool rebalance();
  const std::set<int>& owned() const { return owned_; }
  int members() const { return members_; }

  // Up to `limit` pending rows of the owned buckets, in id order.
  std::vector<OutboxRow> claim(int limit);
  void mark_published(const std::vector<std::int64_t>& ids);
  void mark_poison(const std::vector<std::pair<std::int64_t, std::string>>& rows);
  Backlog backlog();
  // Pending rows set aside because their topic was not declared get
  // checked again (last_error cleared); returns how many.
  long release_undeclared_topic_rows();
  // Deletes up to `limit` published rows older than the retention; returns how many.
  long prune(std::int64_t retention_ms, int limit);

  // Waits up to `timeout` for a NOTIFY on the session or for `wake_fd` to
  // become readable (-1: none). Returns true when a notification arrived.
  bool wait(std::chrono::milliseconds timeout, int wake_fd);

 private:
  pg::Connection& session();

  std::string database_url_;
  OutboxSql sql_;
  LockSpace locks_;
  std::optional<pg::Connection> conn_;
  std::set<int> owned_;
  int members_ = 1;
  int backend_pid_ = 0;
};

}  // namespace outflow::agent::publisher
