#include "agent/publisher/mark_session.h"

#include "agent/postgres/array_literal.h"
#include "agent/publisher/outbox_store.h"

namespace outflow::agent::publisher {

void MarkSession::start(const std::string& sql, const std::vector<std::int64_t>& ids) {
  try {
    if (!conn_ || !conn_->ok() || sql != prepared_sql_) {
      conn_.reset();
      auto conn = pg::Connection::open(database_url_, session_defaults("outflow-agent-marks"));
      // As the publisher's session: a mark stuck behind a lock must not hold
      // acknowledged rows unrecorded for ever.
      conn.run_script("SET statement_timeout = '30s'; SET lock_timeout = '10s'");
      conn.prepare(kMarkPublishedStatement, sql);
      prepared_sql_ = sql;
      conn_.emplace(std::move(conn));
    }
    conn_->send_prepared(kMarkPublishedStatement, {{pg::array_literal(ids)}});
    busy_ = true;
  } catch (...) {
    disconnect();
    throw;
  }
}

bool MarkSession::poll() {
  if (!busy_) return true;
  try {
    if (!conn_->ready()) return false;
    busy_ = false;
    conn_->receive();
    return true;
  } catch (...) {
    disconnect();
    throw;
  }
}

void MarkSession::finish() {
  if (!busy_) return;
  try {
    busy_ = false;
    conn_->receive();
  } catch (...) {
    disconnect();
    throw;
  }
}

void MarkSession::disconnect() {
  busy_ = false;
  conn_.reset();
}

}  // namespace outflow::agent::publisher
