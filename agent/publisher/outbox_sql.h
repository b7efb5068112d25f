#pragma once

// Pure: the SQL the publisher runs against the team's outbox table, built once
// from spec.outbox (table and column names are validated identifiers in the
// spec and quoted here, so a column called "key" or "order" works).
//
// A row is pending while published_at IS NULL. A pending row with last_error
// set is poison: it and the later rows of its key wait for a person (who fixes
// the row and clears last_error, or deletes it); every other key moves on.

#include "common/pipeline/spec.h"

#include <string>
#include <string_view>

namespace outflow::agent::publisher {

struct OutboxSql {
  // $1 int[] owned buckets, $2 int limit, $3 bigint floor (only ids above it,
  // see claim_floor.h). Always at least one row; columns 0-6 are NULL when
  // nothing was claimed: id, event_id, topic, key, payload, headers (text),
  // created_at (ms since epoch), in id order, skipping poison rows and the
  // rows of their keys that come after them. Then, the same on every row:
  // 7 keys held back (bigint), 8 a fingerprint of them (text), 9 the highest
  // pending id (bigint, NULL when none), 10 the snapshot's oldest running
  // xid and 11 its xmax (bigint).
  std::string claim;
  // $1 bigint[] ids: published_at = now(), attempts + 1 (or DELETE when
  // deleteAfterPublish).
  std::string mark_published;
  // $1 bigint[] ids, $2 text[] reasons, pairwise.
  std::string mark_poison;
  // $1 int[] buckets. Columns: pending rows, age of the oldest in seconds (NULL when none).
  std::string backlog;
  // $1 bigint retention ms, $2 int limit: deletes published rows older than the retention.
  std::string prune;
  // $1 text LIKE pattern of a poison reason: clears last_error of the pending
  // rows set aside for it, so they are checked again.
  std::string release_poison_like;
  // $1 bigint cursor, $2 int batch, $3 bigint retention ms: takes the next
  // $2 ids after the cursor through the primary key and deletes those
  // published before the cutoff. Columns: deleted, ids in the batch, highest
  // id of the batch, lowest published id not yet due, whether every row of
  // the batch was created after the cutoff (see prune_schedule.h).
  std::string prune_step;
  // The bucket of the row aliased `o` (for tests that check the split).
  std::string bucket_of_row;
};

// For the table named in the spec, or for `quoted_table` (a table resolved
// after connecting, already quoted: see quote_identifier).
OutboxSql outbox_sql(const pipeline::OutboxSpec& outbox, int bucket_count);
OutboxSql outbox_sql(const pipeline::OutboxSpec& outbox, int bucket_count, const std::string& quoted_table);

// "a.b" -> "\"a\".\"b\"", doubling any quote inside a part.
std::string quote_qualified(const std::string& name);
// "a" -> "\"a\"", doubling any quote inside.
std::string quote_identifier(std::string_view identifier);

// The NOTIFY channel of one outbox table as an SQL expression of two text
// expressions, its schema and its name: "outflow_outbox_<schema>.<table>",
// or "outflow_outbox_<md5 of schema.table>" when that would pass
// PostgreSQL's 63-byte identifier limit. hack/sql/outbox.sql's trigger holds
// it verbatim (with TG_TABLE_SCHEMA and TG_TABLE_NAME); the store evaluates
// it for the table it resolved, so both always agree.
std::string notify_channel_sql(std::string_view schema, std::string_view table);

// The one channel older triggers notify for every outbox table, with the
// table ("schema.table") as payload.
inline constexpr const char* kLegacyNotifyChannel = "outflow_outbox";

}  // namespace outflow::agent::publisher
