#pragma once

// RAII wrapper over one libpq connection. Only the agent talks to PostgreSQL.

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <utility>
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

// A libpq connection keyword and value ("keepalives_idle", "5").
using Setting = std::pair<std::string, std::string>;

enum class Format { Text, Binary };

// One NOTIFY received by a listening session.
struct Notification {
  std::string channel;
  std::string payload;
  int backend_pid = 0;  // the notifying session (a session hears its own)
};

// A bigint column of a binary result.
std::int64_t big_endian_int64(std::string_view bytes);

class Connection {
 public:
  // Throws Error with libpq's message, every part of the URL redacted (see
  // url_safety.h): the URL is a Secret.
  static Connection open(const std::string& url);
  // The same, with libpq settings applied first, so the URL's own settings
  // (e.g. ?connect_timeout=) still win over these defaults.
  static Connection open(const std::string& url, const std::vector<Setting>& defaults);

  // Binary results hand bytea columns over as raw bytes and bigint as 8
  // big-endian bytes (see big_endian_int64), saving the hex round trip.
  Result exec(std::string_view sql, const std::vector<Param>& params = {}, Format result = Format::Text);
  // A statement parsed once per session (PREPARE `name`). Executing it skips
  // the parse and, once PostgreSQL settles on a generic plan (after five
  // runs whose plans cost no less), the planning too: for the publisher's
  // claim, planning took longer than running it when few rows were pending.
  void prepare(const std::string& name, std::string_view sql);
  Result exec_prepared(const std::string& name, const std::vector<Param>& params = {},
                       Format result = Format::Text);
  void send_prepared(const std::string& name, const std::vector<Param>& params = {});
  // A prepared statement without waiting for it: send_prepared() queues it
  // and returns (blocking only while libpq writes it out), ready() tells
  // without blocking whether its answer is in, receive() waits for the answer
  // and returns it, throwing Error as exec() does. Between the two the
  // session takes no other statement.
  bool ready();
  Result receive();
  // Runs several ;-separated statements (e.g. a migration file); no parameters.
  void run_script(std::string_view sql);
  bool ok() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }
  // The socket to poll() for NOTIFY while idle.
  int socket() const { return PQsocket(conn_.get()); }
  // Reads what the server sent and returns how many notifications arrived
  // (all channels); throws Error when the connection is gone.
  int take_notifications();
  // The same, with what each notification said.
  std::vector<Notification> take_notification_list();
  PGconn* native() const { return conn_.get(); }

 private:
  struct ConnDeleter {
    void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
  };
  Result checked(std::unique_ptr<PGresult, ResultDeleter> result) const;
  Error failure() const;  // libpq's last message, the URL redacted
  Connection(std::unique_ptr<PGconn, ConnDeleter> conn, std::string url)
      : conn_(std::move(conn)), url_(std::move(url)) {}
  std::unique_ptr<PGconn, ConnDeleter> conn_;
  // Kept only to redact it from later error messages (a dropped session's
  // message can name the server).
  std::string url_;
};

}  // namespace outflow::pg
