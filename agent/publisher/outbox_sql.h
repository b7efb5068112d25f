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

namespace outflow::agent::publisher {

struct OutboxSql {
  // $1 int[] owned buckets, $2 int limit. Columns: id, event_id, topic, key,
  // payload, headers (text), created_at (ms since epoch). In id order, skipping
  // poison rows and the rows of their keys that come after them.
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
  // The bucket of the row aliased `o` (for tests that check the split).
  std::string bucket_of_row;
};

OutboxSql outbox_sql(const pipeline::OutboxSpec& outbox, int bucket_count);

// "a.b" -> "\"a\".\"b\"", doubling any quote inside a part.
std::string quote_qualified(const std::string& name);

}  // namespace outflow::agent::publisher
