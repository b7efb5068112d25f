#pragma once

// The application side of a run: rows written into the run's outbox, each
// with the event id event_id_for(index), key "k<index % keys>" and a payload
// that starts with the index (1 KiB by default).

#include "agent/postgres/connection.h"

#include <cstdint>
#include <string>
#include <vector>

namespace outflow::bench {

struct RowShape {
  int keys = 1000;
  int payload_bytes = 1024;
};

std::string payload_for(std::int64_t index, int bytes);

// Rows [first, first + count) in transactions of 1000 rows (a backlog as many
// application transactions leave it, not one huge transaction).
void preload(pg::Connection& sql, std::int64_t first, std::int64_t count, const RowShape& shape);

// One single-row autocommit INSERT, as an application's transaction would.
void insert_one(pg::Connection& sql, std::int64_t index, const RowShape& shape);

// Rows [0, count) committed at `rate` per second, on schedule (a late row goes
// at once and does not push the later ones back), from enough sessions of
// `schema` that one session's round trips do not cap the rate. Returns when
// each row's INSERT returned (µs since the epoch): its commit time.
std::vector<std::int64_t> write_paced(const std::string& url, const std::string& schema, std::int64_t count,
                                      int rate, const RowShape& shape);

}  // namespace outflow::bench
