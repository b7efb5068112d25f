#include "agent/postgres/connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace outflow::pg {
namespace {

std::string trimmed_error(const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

long Result::affected() const {
  const char* n = PQcmdTuples(result_.get());
  return (n == nullptr || *n == '\0') ? 0 : std::stol(n);
}

Connection Connection::open(const std::string& url) {
  std::unique_ptr<PGconn, ConnDeleter> conn(PQconnectdb(url.c_str()));
  if (!conn) throw Error("PostgreSQL: out of memory creating a connection", "");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw Error(fmt::format("PostgreSQL connection failed: {}", trimmed_error(PQerrorMessage(conn.get()))), "");
  }
  // Server NOTICEs are informational; keep them out of stderr unless debugging.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char* message) { spdlog::debug("PostgreSQL: {}", trimmed_error(message)); },
      nullptr);
  return Connection(std::move(conn));
}

Result Connection::exec(std::string_view sql, const std::vector<Param>& params) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  for (const auto& p : params) {
    values.push_back(p.value ? p.value->data() : nullptr);
    lengths.push_back(p.value ? static_cast<int>(p.value->size()) : 0);
    formats.push_back(p.binary ? 1 : 0);
  }
  const std::string query(sql);
  std::unique_ptr<PGresult, ResultDeleter> result(
      PQexecParams(conn_.get(), query.c_str(), static_cast<int>(params.size()), nullptr,
                   values.data(), lengths.data(), formats.data(), /*resultFormat=*/0));
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
    throw Error(fmt::format("PostgreSQL: {}", trimmed_error(PQerrorMessage(conn_.get()))),
                state ? state : "");
  }
  return Result(std::move(result));
}

void Connection::run_script(std::string_view sql) {
  // PQexec uses the simple query protocol, the only one that accepts several
  // statements in one string; it returns the last statement's result.
  const std::string script(sql);
  std::unique_ptr<PGresult, ResultDeleter> result(PQexec(conn_.get(), script.c_str()));
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
    throw Error(fmt::format("PostgreSQL: {}", trimmed_error(PQerrorMessage(conn_.get()))),
                state ? state : "");
  }
}

}  // namespace outflow::pg
