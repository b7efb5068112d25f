#include "agent/postgres/connection.h"

#include "agent/postgres/url_safety.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace outflow::pg {
namespace {

// libpq's messages span lines ("server closed the connection
// unexpectedly\n\tThis probably means..."); logs and status want one line.
std::string trimmed_error(const char* message) {
  std::string text;
  for (const char* c = message ? message : ""; *c != '\0'; ++c) {
    if (*c == '\n' || *c == '\t') {
      if (!text.empty() && text.back() != ' ') text += ' ';
    } else {
      text += *c;
    }
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

long Result::affected() const {
  const char* n = PQcmdTuples(result_.get());
  return (n == nullptr || *n == '\0') ? 0 : std::stol(n);
}

std::int64_t big_endian_int64(std::string_view bytes) {
  if (bytes.size() != 8) throw Error("PostgreSQL: a bigint column did not arrive as 8 bytes", "");
  std::uint64_t value = 0;
  for (const unsigned char byte : bytes) value = (value << 8) | byte;
  return static_cast<std::int64_t>(value);
}

Connection Connection::open(const std::string& url) { return open(url, {}); }

Connection Connection::open(const std::string& url, const std::vector<Setting>& defaults) {
  // libpq's own message for a URL it cannot parse quotes the URL (password
  // included), so that case gets a message of ours.
  if (const auto problem = url_problem(url)) throw Error("PostgreSQL: the database URL " + *problem, "");
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [keyword, value] : defaults) {
    keywords.push_back(keyword.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back("dbname");  // with expand_dbname, the URL's settings follow ours
  values.push_back(url.c_str());
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  std::unique_ptr<PGconn, ConnDeleter> conn(PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1));
  if (!conn) throw Error("PostgreSQL: out of memory creating a connection", "");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw Error(fmt::format("PostgreSQL connection failed: {}", redact(trimmed_error(PQerrorMessage(conn.get())), url)),
                "");
  }
  // Server NOTICEs are informational; keep them out of stderr unless debugging.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char* message) { spdlog::debug("PostgreSQL: {}", trimmed_error(message)); },
      nullptr);
  return Connection(std::move(conn), url);
}

namespace {

// libpq wants parallel arrays of values, lengths and formats.
struct ParamArrays {
  explicit ParamArrays(const std::vector<Param>& params) {
    for (const auto& p : params) {
      values.push_back(p.value ? p.value->data() : nullptr);
      lengths.push_back(p.value ? static_cast<int>(p.value->size()) : 0);
      formats.push_back(p.binary ? 1 : 0);
    }
  }
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
};

}  // namespace

Error Connection::failure() const {
  return Error(fmt::format("PostgreSQL: {}", redact(trimmed_error(PQerrorMessage(conn_.get())), url_)), "");
}

Result Connection::checked(std::unique_ptr<PGresult, ResultDeleter> result) const {
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
    throw Error(fmt::format("PostgreSQL: {}", redact(trimmed_error(PQerrorMessage(conn_.get())), url_)),
                state ? state : "");
  }
  return Result(std::move(result));
}

Result Connection::exec(std::string_view sql, const std::vector<Param>& params, Format result_format) {
  const ParamArrays arrays(params);
  const std::string query(sql);
  return checked(std::unique_ptr<PGresult, ResultDeleter>(
      PQexecParams(conn_.get(), query.c_str(), static_cast<int>(params.size()), nullptr, arrays.values.data(),
                   arrays.lengths.data(), arrays.formats.data(), result_format == Format::Binary ? 1 : 0)));
}

void Connection::prepare(const std::string& name, std::string_view sql) {
  const std::string query(sql);
  checked(std::unique_ptr<PGresult, ResultDeleter>(PQprepare(conn_.get(), name.c_str(), query.c_str(), 0, nullptr)));
}

Result Connection::exec_prepared(const std::string& name, const std::vector<Param>& params, Format result_format) {
  const ParamArrays arrays(params);
  return checked(std::unique_ptr<PGresult, ResultDeleter>(
      PQexecPrepared(conn_.get(), name.c_str(), static_cast<int>(params.size()), arrays.values.data(),
                     arrays.lengths.data(), arrays.formats.data(), result_format == Format::Binary ? 1 : 0)));
}

void Connection::send_prepared(const std::string& name, const std::vector<Param>& params) {
  const ParamArrays arrays(params);
  if (PQsendQueryPrepared(conn_.get(), name.c_str(), static_cast<int>(params.size()), arrays.values.data(),
                          arrays.lengths.data(), arrays.formats.data(), 0) == 0) {
    throw failure();
  }
}

bool Connection::ready() {
  if (PQconsumeInput(conn_.get()) == 0) {
    throw failure();
  }
  return PQisBusy(conn_.get()) == 0;
}

Result Connection::receive() {
  // The statement's result, then the null that ends it; an error result or a
  // lost connection throws, after the rest has been read off.
  std::unique_ptr<PGresult, ResultDeleter> first(PQgetResult(conn_.get()));
  while (std::unique_ptr<PGresult, ResultDeleter> more{PQgetResult(conn_.get())}) {
  }
  return checked(std::move(first));
}

int Connection::take_notifications() { return static_cast<int>(take_notification_list().size()); }

std::vector<Notification> Connection::take_notification_list() {
  if (PQconsumeInput(conn_.get()) == 0) {
    throw failure();
  }
  std::vector<Notification> out;
  while (PGnotify* notify = PQnotifies(conn_.get())) {
    out.push_back({notify->relname ? notify->relname : "", notify->extra ? notify->extra : "", notify->be_pid});
    PQfreemem(notify);
  }
  return out;
}

void Connection::run_script(std::string_view sql) {
  // PQexec uses the simple query protocol, the only one that accepts several
  // statements in one string; it returns the last statement's result.
  const std::string script(sql);
  std::unique_ptr<PGresult, ResultDeleter> result(PQexec(conn_.get(), script.c_str()));
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
    throw Error(fmt::format("PostgreSQL: {}", redact(trimmed_error(PQerrorMessage(conn_.get())), url_)),
                state ? state : "");
  }
}

}  // namespace outflow::pg
