#pragma once

// RAII wrapper over one libpq connection. Only the agent talks to PostgreSQL.

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace outflow::pg {

class Error : public std::runtime_error {
 public:
  Error(const std::string& message, std::string sqlstate)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  // Five-character SQLSTATE, empty when the failure was not reported by the server.
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

struct ResultDeleter {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};

class Result {
 public:
  explicit Result(std::unique_ptr<PGresult, ResultDeleter> result) : result_(std::move(result)) {}

  int rows() const { return PQntuples(result_.get()); }
  int columns() const { return PQnfields(result_.get()); }
  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string_view value(int row, int column) const {
    return {PQgetvalue(result_.get(), row, column),
            static_cast<size_t>(PQgetlength(result_.get(), row, column))};
  }
  // Rows changed by INSERT/UPDATE/DELETE.
  long affected() const;

 private:
  std::unique_ptr<PGresult, ResultDeleter> result_;
};

// A statement parameter; nullopt is SQL NULL. Binary parameters are sent as raw
// bytes (for bytea), text ones in PostgreSQL's text format.
struct Param {
  std::optional<std::string> value;
  bool binary = false;
};

class Connection {
 public:
  // Throws Error with libpq's message (which never contains the password).
  static Connection open(const std::string& url);

  Result exec(std::string_view sql, const std::vector<Param>& params = {});
  // Runs several ;-separated statements (e.g. a migration file); no parameters.
  void run_script(std::string_view sql);
  bool ok() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }
  PGconn* native() const { return conn_.get(); }

 private:
  struct ConnDeleter {
    void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
  };
  explicit Connection(std::unique_ptr<PGconn, ConnDeleter> conn) : conn_(std::move(conn)) {}
  std::unique_ptr<PGconn, ConnDeleter> conn_;
};

}  // namespace outflow::pg
