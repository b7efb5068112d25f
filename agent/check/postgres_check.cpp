#include "agent/check/postgres_check.h"

#include "agent/postgres/connection.h"

#include <fmt/format.h>

#include <optional>

namespace outflow::agent::check {

namespace {

Item skipped(const char* subject, const char* why) { return {subject, Outcome::Skipped, why}; }

}  // namespace

std::vector<Item> check_postgres(const std::string& url, const pipeline::OutboxSpec& outbox,
                                 std::chrono::seconds connect_timeout) {
  std::vector<Item> out;
  std::optional<pg::Connection> conn;
  try {
    conn.emplace(pg::Connection::open(url, {{"connect_timeout", std::to_string(connect_timeout.count())},
                                            {"application_name", "outflow-agent check"}}));
    out.push_back({"postgres", Outcome::Ok, "connected"});
  } catch (const pg::Error& e) {
    out.push_back({"postgres", Outcome::Failed, e.what()});
  }
  constexpr const char* kNoConnection = "needs a database connection";
  if (!conn) {
    for (const char* s : {"outbox table", "outbox columns", "notify trigger", "table privileges", "advisory locks"}) {
      out.push_back(skipped(s, kNoConnection));
    }
    return out;
  }

  try {
    const auto table = conn->exec("SELECT to_regclass($1) IS NOT NULL", {{outbox.table}});
    if (table.value(0, 0) != "t") {
      out.push_back({"outbox table", Outcome::Failed,
                     fmt::format("{} does not exist (run hack/sql/outbox.sql in this database, or set outbox.table)",
                                 outbox.table)});
      for (const char* s : {"outbox columns", "notify trigger", "table privileges"}) {
        out.push_back(skipped(s, "needs the outbox table"));
      }
    } else {
      out.push_back({"outbox table", Outcome::Ok, fmt::format("{} exists", outbox.table)});
      const auto columns = conn->exec(
          "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
          "WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
          {{outbox.table}});
      ColumnTypes types;
      for (int r = 0; r < columns.rows(); ++r) types[std::string(columns.value(r, 0))] = columns.value(r, 1);
      out.push_back(outbox_columns(outbox.table, outbox.columns, types));

      // Any statement-level trigger whose function calls pg_notify: the
      // shipped one or the application's own.
      const auto trigger = conn->exec(
          "SELECT count(*) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
          "WHERE t.tgrelid = to_regclass($1) AND NOT t.tgisinternal AND p.prosrc LIKE '%pg_notify%'",
          {{outbox.table}});
      if (trigger.value(0, 0) == "0") {
        out.push_back({"notify trigger", Outcome::Failed,
                       fmt::format("no trigger on {} calls pg_notify, so rows wait for the next poll "
                                   "(outbox.pollIntervalMs); install the trigger of hack/sql/outbox.sql",
                                   outbox.table)});
      } else {
        out.push_back({"notify trigger", Outcome::Ok, "installed"});
      }

      // UPDATE marks rows published; DELETE prunes them (or removes them at once).
      const char* needed = "SELECT, UPDATE, DELETE";
      const auto privileges =
          conn->exec("SELECT has_table_privilege($1, 'SELECT') AND has_table_privilege($1, 'UPDATE') AND "
                     "has_table_privilege($1, 'DELETE')",
                     {{outbox.table}});
      if (privileges.value(0, 0) != "t") {
        out.push_back({"table privileges", Outcome::Failed,
                       fmt::format("the role lacks one of {} on {} (GRANT them)", needed, outbox.table)});
      } else {
        out.push_back({"table privileges", Outcome::Ok, fmt::format("{} granted", needed)});
      }
    }
  } catch (const pg::Error& e) {
    out.push_back({"outbox table", Outcome::Failed, fmt::format("cannot inspect {}: {}", outbox.table, e.what())});
  }

  // The agent splits the outbox's keys between replicas with advisory locks.
  try {
    conn->exec("SELECT pg_try_advisory_lock(hashtext('outflow-agent check')::bigint)");
    conn->exec("SELECT pg_advisory_unlock_all()");
    out.push_back({"advisory locks", Outcome::Ok, "the role may take them"});
  } catch (const pg::Error& e) {
    out.push_back({"advisory locks", Outcome::Failed, fmt::format("cannot take one: {}", e.what())});
  }
  return out;
}

}  // namespace outflow::agent::check
