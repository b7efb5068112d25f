#pragma once

// A second PostgreSQL session that records acknowledged rows as published
// while the publisher's own session reads the next batch.
//
// On one session every batch costs a claim and then a mark, one after the
// other, and the mark (an UPDATE of every row, each a new tuple and its index
// entries) is the dearer of the two: PostgreSQL works on one statement of the
// publisher at a time while a second core idles. Marks need none of the
// publisher session's locks (marking a row Kafka acknowledged is true
// whichever replica owns its bucket now), so they go out here without waiting
// for the answer, and the publisher collects the answer later.
//
// What must not happen is a claim from the floor reading rows whose mark is
// still on its way: they would be sent twice. The publisher therefore lets
// such a claim run only once this session is idle (drain_window.h), and
// claims of a chain read above every row in flight anyway.
//
// Every method throws pg::Error; after one the session is closed, and the
// next start() opens a new one. Rows whose mark failed are the caller's to
// send again.

#include "agent/postgres/connection.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace outflow::agent::publisher {

class MarkSession {
 public:
  explicit MarkSession(std::string database_url) : database_url_(std::move(database_url)) {}

  // Sends `sql` (one parameter: the ids as a bigint array literal; prepared
  // once per session) and returns without waiting. The session must be idle.
  void start(const std::string& sql, const std::vector<std::int64_t>& ids);
  // A mark was sent and its answer has not been collected.
  bool busy() const { return busy_; }
  // Without blocking: true when nothing is outstanding any more (the answer
  // was collected now or earlier). Throws the mark's failure.
  bool poll();
  // Blocks until the outstanding mark (if any) is answered. Throws its failure.
  void finish();
  void disconnect();

 private:
  std::string database_url_;
  std::optional<pg::Connection> conn_;
  std::string prepared_sql_;  // what the session prepared as the mark
  bool busy_ = false;
};

}  // namespace outflow::agent::publisher
