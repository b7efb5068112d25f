#pragma once

// The publisher's one PostgreSQL session: it holds the membership and bucket
// advisory locks, LISTENs for new rows, reads pending rows of the buckets it
// owns and records what became of them. One session on purpose: the locks
// live and die with it, so a row is only ever read by the session that owns
// its bucket. Every method throws pg::Error; the caller drops the session and
// reconnects with back-off. Counting the backlog and pruning belong to the
// Housekeeper (its own session), never to this one.

#include "agent/postgres/connection.h"
#include "agent/publisher/buckets.h"
#include "agent/publisher/claim_floor.h"
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

// Names of the statements the publisher's sessions prepare.
inline constexpr const char* kClaimStatement = "outflow_claim";
inline constexpr const char* kMarkPublishedStatement = "outflow_mark_published";

// The channel older versions of hack/sql/outbox.sql notify for every table.
inline constexpr const char* kNotifyChannel = kLegacyNotifyChannel;

struct Backlog {
  std::int64_t rows = 0;
  std::optional<std::int64_t> oldest_age_seconds;  // nullopt: nothing pending
};

// The outbox table as PostgreSQL resolved the spec's name for a session
// (an unqualified name goes through the session's search_path).
struct OutboxTable {
  std::string schema;
  std::string name;
  std::string channel;  // the NOTIFY channel its trigger uses (outbox_sql.h)
  std::string qualified() const { return schema + "." + name; }  // for messages
  std::string quoted() const;                                    // for SQL
};

// Throws pg::Error (SQLSTATE 42P01) naming the table and the schemas searched
// when there is no such table.
OutboxTable resolve_outbox_table(pg::Connection& conn, const std::string& spec_table);

// libpq settings for the agent's sessions: connect timeout, TCP keepalives,
// application_name (the URL's own settings win).
std::vector<pg::Setting> session_defaults(const std::string& application_name);

// What woke a wait: rows committed to this table, or a replica that joined
// or left gracefully (rebalance now rather than at the next poll).
struct Wake {
  bool rows = false;
  bool members = false;
  bool any() const { return rows || members; }
};

class OutboxStore {
 public:
  OutboxStore(std::string database_url, const pipeline::OutboxSpec& outbox);

  // Opens the session, resolves the table (its real schema keys the locks and
  // the channel), LISTENs on the table's channel, takes the membership lock
  // and tells the other replicas. Buckets come with rebalance().
  void connect();
  void disconnect();
  // Graceful goodbye: gives the buckets back, tells the other replicas so
  // they take them at once, then closes the session. Never throws.
  void leave();
  bool connected() const { return conn_.has_value(); }
  int socket() const;
  // Valid while connected.
  const OutboxTable& table() const { return table_; }

  // Counts the live replicas and locks or unlocks buckets towards a fair share.
  // Returns true when the owned set changed.
  bool rebalance();
  const std::set<int>& owned() const { return owned_; }
  int members() const { return members_; }

  // Up to `limit` pending rows of the owned buckets, in id order. Stays quick
  // however many rows poison rows hold back (see claim_floor.h).
  std::vector<OutboxRow> claim(int limit);
  // The next batch of a chain (drain_window.h): up to `limit` pending rows of
  // the owned buckets with ids above `after`, in id order. The rows at or
  // below it are in flight, so this claim proves no floor.
  std::vector<OutboxRow> claim_after(int limit, std::int64_t after);
  // Whether no transaction was running at the last claim's snapshot: every
  // row with a lower id than it read that will ever commit was visible to it.
  bool last_claim_quiet() const { return last_claim_quiet_; }
  void mark_published(const std::vector<std::int64_t>& ids);
  // The statement mark_published() runs, for a session of its own
  // (mark_session.h). Valid while connected.
  const std::string& mark_published_sql() const { return sql_->mark_published; }
  void mark_poison(const std::vector<std::pair<std::int64_t, std::string>>& rows);
  // Counts on this session; the Housekeeper does the same on its own.
  Backlog backlog();
  // Pending rows set aside because their topic was not declared get
  // checked again (last_error cleared); returns how many.
  long release_undeclared_topic_rows();
  // Deletes published rows older than the retention among the `limit` lowest
  // ids, through the primary key; returns how many. The Housekeeper prunes
  // continuously in budgeted steps instead.
  long prune(std::int64_t retention_ms, int limit);

  // Waits up to `timeout` for a NOTIFY about this table or for `wake_fd` to
  // become readable (-1: none). Returns true when a notification arrived.
  bool wait(std::chrono::milliseconds timeout, int wake_fd);
  // The same, saying what the notifications were about.
  Wake wait_for_news(std::chrono::milliseconds timeout, int wake_fd);
  // What has arrived so far, without waiting. libpq keeps every notification
  // until it is taken: a busy publisher must take them too.
  Wake take_news();

 private:
  pg::Connection& session();

  std::string database_url_;
  pipeline::OutboxSpec outbox_;
  std::optional<OutboxSql> sql_;  // built for the resolved table at connect
  OutboxTable table_;
  LockSpace locks_;
  std::optional<pg::Connection> conn_;
  ClaimFloor floor_;
  std::set<int> owned_;
  int members_ = 1;
  int backend_pid_ = 0;
  bool last_claim_quiet_ = false;

  std::vector<OutboxRow> read_claim(int limit, std::int64_t start, bool prove_floor);
};

}  // namespace outflow::agent::publisher
