#include "agent/publisher/outbox_store.h"

#include "agent/postgres/array_literal.h"
#include "agent/publisher/row_check.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <poll.h>

namespace outflow::agent::publisher {
namespace {

using Clock = std::chrono::steady_clock;

// What a replica sends on the table's channel when it joins, leaves or frees
// buckets: every replica looks at its share again. The trigger's payload is
// the table's name, never this.
constexpr const char* kMembersPayload = "outflow:members";

// A claim from the first pending row at least this often, for ids handed out
// long before their insert committed (see claim_floor.h).
constexpr std::chrono::seconds kFullScanInterval{60};

std::optional<std::string> nullable(const pg::Result& r, int row, int column) {
  if (r.is_null(row, column)) return std::nullopt;
  return std::string(r.value(row, column));
}

std::optional<std::int64_t> nullable_int64(const pg::Result& r, int row, int column) {
  if (r.is_null(row, column)) return std::nullopt;
  return pg::big_endian_int64(r.value(row, column));
}

}  // namespace

std::string OutboxTable::quoted() const { return quote_identifier(schema) + "." + quote_identifier(name); }

std::vector<pg::Setting> session_defaults(const std::string& application_name) {
  // TCP keepalives notice a dead network path in about 10 s instead of the
  // kernel's two hours, so a partitioned replica gives its buckets up (server
  // side) and notices (client side) quickly.
  return {{"connect_timeout", "5"},     {"keepalives", "1"},       {"keepalives_idle", "5"},
          {"keepalives_interval", "2"}, {"keepalives_count", "3"}, {"application_name", application_name}};
}

OutboxTable resolve_outbox_table(pg::Connection& conn, const std::string& spec_table) {
  const auto r = conn.exec(
      fmt::format("SELECT n.nspname, c.relname, {} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                  "WHERE c.oid = to_regclass($1)",
                  notify_channel_sql("n.nspname::text", "c.relname::text")),
      {{quote_qualified(spec_table)}});
  if (r.rows() == 1) {
    return {std::string(r.value(0, 0)), std::string(r.value(0, 1)), std::string(r.value(0, 2))};
  }
  const auto schemas = conn.exec("SELECT array_to_string(current_schemas(false), ', ')");
  throw pg::Error(fmt::format("outbox table \"{}\" does not exist{} (create it with hack/sql/outbox.sql, or fix "
                              "spec.outbox.table or the database user's search_path)",
                              spec_table,
                              spec_table.find('.') == std::string::npos
                                  ? fmt::format(" in the schemas of the search_path ({})", schemas.value(0, 0))
                                  : ""),
                  "42P01");
}

OutboxStore::OutboxStore(std::string database_url, const pipeline::OutboxSpec& outbox)
    : database_url_(std::move(database_url)), outbox_(outbox), floor_(kFullScanInterval, Clock::now()) {}

pg::Connection& OutboxStore::session() {
  if (!conn_) throw pg::Error("PostgreSQL: not connected", "");
  return *conn_;
}

int OutboxStore::socket() const { return conn_ ? conn_->socket() : -1; }

void OutboxStore::connect() {
  disconnect();
  auto conn = pg::Connection::open(database_url_, session_defaults("outflow-agent"));
  // The server side of the keepalive: a replica whose host vanishes loses its
  // locks within seconds, so its buckets move on. A stuck statement must not
  // hold the publisher (and its locks) forever either.
  //
  // A claim must walk the pending-row index in id order. Every published row
  // leaves a dead entry there until VACUUM, and an ordered index scan marks
  // each one dead the first time it passes it, so later claims skip it. A
  // bitmap scan never does: it visits the heap page of every dead entry on
  // every claim. Statistics taken while few rows were pending make the bitmap
  // look cheapest, and then claims grew to 80-250 ms at 10,000 rows/s and the
  // agent fell seconds behind (auto_explain, hack/bench.sh peers). Nothing
  // else this session runs wants a bitmap scan.
  conn.run_script(
      "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3; "
      "SET statement_timeout = '30s'; SET lock_timeout = '10s'; SET enable_bitmapscan = off");
  auto table = resolve_outbox_table(conn, outbox_.table);
  // Pipelines on same-named tables in different schemas must never share
  // locks: they come from the resolved schema, not the spec's spelling.
  const auto locks = lock_space(table.schema, table.name);
  conn.exec(fmt::format("LISTEN {}", quote_identifier(table.channel)));
  // Triggers installed by older versions of hack/sql/outbox.sql notify one
  // channel for every table, naming the table in the payload.
  conn.exec(fmt::format("LISTEN {}", quote_identifier(kLegacyNotifyChannel)));
  const auto pid = conn.exec("SELECT pg_backend_pid()");
  backend_pid_ = std::stoi(std::string(pid.value(0, 0)));
  const auto member = conn.exec("SELECT pg_try_advisory_lock($1::int, pg_backend_pid())",
                                {{std::to_string(locks.members)}});
  if (member.value(0, 0) != "t") throw pg::Error("PostgreSQL: could not take the membership lock", "");
  conn.exec("SELECT pg_notify($1, $2)", {{table.channel}, {kMembersPayload}});
  sql_ = outbox_sql(outbox_, kBucketCount, table.quoted());
  // The two statements of every batch, parsed once per session.
  conn.prepare(kClaimStatement, sql_->claim);
  conn.prepare(kMarkPublishedStatement, sql_->mark_published);
  table_ = std::move(table);
  locks_ = locks;
  conn_.emplace(std::move(conn));
  owned_.clear();
  floor_.reset();
}

void OutboxStore::disconnect() {
  // Closing the session releases every advisory lock it holds.
  conn_.reset();
  owned_.clear();
}

void OutboxStore::leave() {
  if (conn_ && conn_->ok()) {
    try {
      // Unlock before telling, so the others find the buckets free.
      conn_->exec("SELECT pg_advisory_unlock_all()");
      conn_->exec("SELECT pg_notify($1, $2)", {{table_.channel}, {kMembersPayload}});
    } catch (const std::exception& e) {
      spdlog::debug("outbox: leaving without a goodbye: {}", e.what());
    }
  }
  disconnect();
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
    // The replicas short of their share look again when told, not at their
    // next periodic look: until then the rows of these buckets wait.
    conn.exec("SELECT pg_notify($1, $2)", {{table_.channel}, {kMembersPayload}});
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
    // Rows of newly owned buckets may lie below the floor.
    floor_.reset();
    spdlog::info("outbox buckets: {} live replica(s), this one owns {} of {} (+{} -{})", members_,
                 owned_.size(), kBucketCount, acquired, plan.release.size());
    return true;
  }
  return false;
}

std::vector<OutboxRow> OutboxStore::claim(int limit) {
  if (owned_.empty() || limit <= 0) return {};
  return read_claim(limit, floor_.start(Clock::now()), true);
}

std::vector<OutboxRow> OutboxStore::claim_after(int limit, std::int64_t after) {
  if (owned_.empty() || limit <= 0) return {};
  return read_claim(limit, after, false);
}

std::vector<OutboxRow> OutboxStore::read_claim(int limit, std::int64_t start, bool prove_floor) {
  std::vector<OutboxRow> rows;
  last_claim_quiet_ = false;
  const auto r = session().exec_prepared(kClaimStatement,
                                {{pg::array_literal(std::vector<int>(owned_.begin(), owned_.end()))},
                                 {std::to_string(limit)},
                                 {std::to_string(start)}},
                                pg::Format::Binary);
  rows.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    if (r.is_null(i, 0)) continue;  // the report row of an empty claim
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
  if (r.rows() > 0) {
    ClaimReport report;
    report.held_back_keys = static_cast<long>(pg::big_endian_int64(r.value(0, 7)));
    report.held_back_fingerprint = std::string(r.value(0, 8));
    if (!rows.empty()) report.first_id = rows.front().id;
    report.max_pending = nullable_int64(r, 0, 9);
    report.oldest_running_xid = static_cast<std::uint64_t>(pg::big_endian_int64(r.value(0, 10)));
    report.snapshot_xmax = static_cast<std::uint64_t>(pg::big_endian_int64(r.value(0, 11)));
    last_claim_quiet_ = report.snapshot_xmax <= report.oldest_running_xid;
    if (prove_floor) floor_.record(report);
  }
  return rows;
}

void OutboxStore::mark_published(const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return;
  session().exec_prepared(kMarkPublishedStatement, {{pg::array_literal(ids)}});
}

void OutboxStore::mark_poison(const std::vector<std::pair<std::int64_t, std::string>>& rows) {
  if (rows.empty()) return;
  std::vector<std::int64_t> ids;
  std::vector<std::string> reasons;
  for (const auto& [id, reason] : rows) {
    ids.push_back(id);
    reasons.push_back(reason);
  }
  session().exec(sql_->mark_poison, {{pg::array_literal(ids)}, {pg::array_literal(reasons)}});
}

Backlog OutboxStore::backlog() {
  Backlog backlog;
  if (owned_.empty()) return backlog;
  const auto r = session().exec(sql_->backlog,
                                {{pg::array_literal(std::vector<int>(owned_.begin(), owned_.end()))}});
  backlog.rows = std::stoll(std::string(r.value(0, 0)));
  if (!r.is_null(0, 1)) backlog.oldest_age_seconds = std::max<std::int64_t>(0, std::stoll(std::string(r.value(0, 1))));
  return backlog;
}

long OutboxStore::release_undeclared_topic_rows() {
  return session().exec(sql_->release_poison_like, {{undeclared_topic_reason("%")}}).affected();
}

long OutboxStore::prune(std::int64_t retention_ms, int limit) {
  // A short walk up the primary key from the first id, as the Housekeeper
  // does continuously: at most ten batches of `limit` ids.
  long pruned = 0;
  std::int64_t cursor = 0;
  for (int step = 0; step < 10 && pruned < limit; ++step) {
    const auto r = session().exec(
        sql_->prune_step, {{std::to_string(cursor)}, {std::to_string(limit)}, {std::to_string(retention_ms)}});
    pruned += std::stol(std::string(r.value(0, 0)));
    if (r.is_null(0, 2) || r.value(0, 4) == "t") break;  // the end, or the retention frontier
    cursor = std::stoll(std::string(r.value(0, 2)));
  }
  return pruned;
}

Wake OutboxStore::take_news() {
  Wake wake;
  for (const auto& n : session().take_notification_list()) {
    if (n.backend_pid == backend_pid_) continue;  // our own goodbye or hello
    if (n.channel == table_.channel) {
      if (n.payload == kMembersPayload) {
        wake.members = true;
      } else {
        wake.rows = true;
      }
    } else if (n.channel == kLegacyNotifyChannel && n.payload == table_.qualified()) {
      wake.rows = true;
    }
  }
  return wake;
}

Wake OutboxStore::wait_for_news(std::chrono::milliseconds timeout, int wake_fd) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (const auto news = take_news(); news.any()) return news;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return {};
    pollfd fds[2] = {{session().socket(), POLLIN, 0}, {wake_fd, POLLIN, 0}};
    const int n = ::poll(fds, wake_fd >= 0 ? 2 : 1, static_cast<int>(left.count()));
    if (n <= 0) return {};
    if (wake_fd >= 0 && (fds[1].revents & POLLIN) != 0) return take_news();
    // Only other tables' notifications on the legacy channel: keep waiting.
  }
}

bool OutboxStore::wait(std::chrono::milliseconds timeout, int wake_fd) { return wait_for_news(timeout, wake_fd).any(); }

}  // namespace outflow::agent::publisher
