#include "agent/publisher/outbox_store.h"

#include "agent/postgres/array_literal.h"
#include "agent/publisher/row_check.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <poll.h>

namespace outflow::agent::publisher {
namespace {

// libpq defaults for the publisher's session. TCP keepalives notice a dead
// network path in about 10 s instead of the kernel's two hours, so a partitioned
// replica gives its buckets up (server side) and notices (client side) quickly.
const std::vector<pg::Setting> kSessionDefaults = {
    {"connect_timeout", "5"},      {"keepalives", "1"},         {"keepalives_idle", "5"},
    {"keepalives_interval", "2"},  {"keepalives_count", "3"},   {"application_name", "outflow-agent"},
};

std::optional<std::string> nullable(const pg::Result& r, int row, int column) {
  if (r.is_null(row, column)) return std::nullopt;
  return std::string(r.value(row, column));
}

}  // namespace

OutboxStore::OutboxStore(std::string database_url, const pipeline::OutboxSpec& outbox)
    : database_url_(std::move(database_url)),
      sql_(outbox_sql(outbox, kBucketCount)),
      locks_(lock_space(outbox.table)) {}

pg::Connection& OutboxStore::session() {
  if (!conn_) throw pg::Error("PostgreSQL: not connected", "");
  return *conn_;
}

int OutboxStore::socket() const { return conn_ ? conn_->socket() : -1; }

void OutboxStore::connect() {
  disconnect();
  auto conn = pg::Connection::open(database_url_, kSessionDefaults);
  // The server side of the keepalive: a replica whose host vanishes loses its
  // locks within seconds, so its buckets move on. A stuck statement must not
  // hold the publisher (and its locks) forever either.
  conn.run_script(
      "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3; "
      "SET statement_timeout = '30s'; SET lock_timeout = '10s'");
  conn.exec(fmt::format("LISTEN {}", kNotifyChannel));
  const auto pid = conn.exec("SELECT pg_backend_pid()");
  backend_pid_ = std::stoi(std::string(pid.value(0, 0)));
  const auto member = conn.exec("SELECT pg_try_advisory_lock($1::int, pg_backend_pid())",
                                {{std::to_string(locks_.members)}});
  if (member.value(0, 0) != "t") throw pg::Error("PostgreSQL: could not take the membership lock", "");
  conn_.emplace(std::move(conn));
  owned_.clear();
}

void OutboxStore::disconnect() {
  // Closing the session releases every advisory lock it holds.
  conn_.reset();
  owned_.clear();
}

bool OutboxStore::rebalance() {
  auto& conn = session();
  const std::string locks_of =
      "SELECT objid::bigint, pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
      "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
      "AND classid = $1::int::oid";
  const auto members = conn.exec(locks_of, {{std::to_string(locks_.members)}});
  members_ = std::max(1, members.rows());
  const auto buckets = conn.exec(locks_of, {{std::to_string(locks_.buckets)}});
  std::set<int> held_by_others;
  for (int i = 0; i < buckets.rows(); ++i) {
    if (std::stoi(std::string(buckets.value(i, 1))) != backend_pid_) {
      held_by_others.insert(std::stoi(std::string(buckets.value(i, 0))));
    }
  }
  const auto plan = publisher::rebalance(kBucketCount, members_, owned_, held_by_others, backend_pid_);
  if (!plan.release.empty()) {
    conn.exec("SELECT pg_advisory_unlock($1::int, b) FROM unnest($2::int[]) AS b",
              {{std::to_string(locks_.buckets)}, {pg::array_literal(plan.release)}});
    for (const int b : plan.release) owned_.erase(b);
  }
  std::size_t acquired = 0;
  if (!plan.acquire.empty()) {
    // Every candidate is tried (no LIMIT), so a lock taken is always reported back.
    const auto got = conn.exec("SELECT b FROM unnest($2::int[]) AS b WHERE pg_try_advisory_lock($1::int, b)",
                               {{std::to_string(locks_.buckets)}, {pg::array_literal(plan.acquire)}});
    for (int i = 0; i < got.rows(); ++i) owned_.insert(std::stoi(std::string(got.value(i, 0))));
    acquired = static_cast<std::size_t>(got.rows());
  }
  if (!plan.release.empty() || acquired > 0) {
    spdlog::info("outbox buckets: {} live replica(s), this one owns {} of {} (+{} -{})", members_,
                 owned_.size(), kBucketCount, acquired, plan.release.size());
    return true;
  }
  return false;
}

std::vector<OutboxRow> OutboxStore::claim(int limit) {
  std::vector<OutboxRow> rows;
  if (owned_.empty() || limit <= 0) return rows;
  const auto r = session().exec(
      sql_.claim,
      {{pg::array_literal(std::vector<int>(owned_.begin(), owned_.end()))}, {std::to_string(limit)}},
      pg::Format::Binary);
  rows.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    OutboxRow row;
    row.id = pg::big_endian_int64(r.value(i, 0));
    row.event_id = std::string(r.value(i, 1));
    row.topic = nullable(r, i, 2);
    row.key = nullable(r, i, 3);
    row.payload = std::string(r.value(i, 4));
    row.headers_json = nullable(r, i, 5);
    row.created_at_ms = r.is_null(i, 6) ? 0 : pg::big_endian_int64(r.value(i, 6));
    rows.push_back(std::move(row));
  }
  return rows;
}

void OutboxStore::mark_published(const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return;
  session().exec(sql_.mark_published, {{pg::array_literal(ids)}});
}

void OutboxStore::mark_poison(const std::vector<std::pair<std::int64_t, std::string>>& rows) {
  if (rows.empty()) return;
  std::vector<std::int64_t> ids;
  std::vector<std::string> reasons;
  for (const auto& [id, reason] : rows) {
    ids.push_back(id);
    reasons.push_back(reason);
  }
  session().exec(sql_.mark_poison, {{pg::array_literal(ids)}, {pg::array_literal(reasons)}});
}

Backlog OutboxStore::backlog() {
  Backlog backlog;
  if (owned_.empty()) return backlog;
  const auto r = session().exec(sql_.backlog,
                                {{pg::array_literal(std::vector<int>(owned_.begin(), owned_.end()))}});
  backlog.rows = std::stoll(std::string(r.value(0, 0)));
  if (!r.is_null(0, 1)) backlog.oldest_age_seconds = std::max<std::int64_t>(0, std::stoll(std::string(r.value(0, 1))));
  return backlog;
}

long OutboxStore::release_undeclared_topic_rows() {
  return session().exec(sql_.release_poison_like, {{undeclared_topic_reason("%")}}).affected();
}

long OutboxStore::prune(std::int64_t retention_ms, int limit) {
  return session().exec(sql_.prune, {{std::to_string(retention_ms)}, {std::to_string(limit)}}).affected();
}

bool OutboxStore::wait(std::chrono::milliseconds timeout, int wake_fd) {
  auto& conn = session();
  if (conn.take_notifications() > 0) return true;
  pollfd fds[2] = {{conn.socket(), POLLIN, 0}, {wake_fd, POLLIN, 0}};
  const int n = ::poll(fds, wake_fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
  if (n > 0 && (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0) return conn.take_notifications() > 0;
  return false;
}

}  // namespace outflow::agent::publisher
