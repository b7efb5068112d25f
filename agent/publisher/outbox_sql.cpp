#include "agent/publisher/outbox_sql.h"

#include <fmt/format.h>

namespace outflow::agent::publisher {
namespace {

std::string quote(const std::string& identifier) {
  std::string out = "\"";
  for (const char c : identifier) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string quote_qualified(const std::string& name) {
  const auto dot = name.find('.');
  if (dot == std::string::npos) return quote(name);
  return quote(name.substr(0, dot)) + "." + quote(name.substr(dot + 1));
}

OutboxSql outbox_sql(const pipeline::OutboxSpec& outbox, int bucket_count) {
  const auto& c = outbox.columns;
  const std::string table = quote_qualified(outbox.table);
  const std::string id = quote(c.id), key = quote(c.key), published = quote(c.published_at),
                    error = quote(c.last_error), attempts = quote(c.attempts), created = quote(c.created_at);
  // Keyed rows hash on the key (hashtext is stable for a given PostgreSQL
  // major version, and every replica asks the same server); keyless rows have
  // no order to keep and spread by id.
  const std::string bucket = fmt::format(
      "(CASE WHEN o.{key} IS NULL THEN (o.{id} % {n})::int ELSE (hashtext(o.{key}) & 2147483647) % {n} END)",
      fmt::arg("key", key), fmt::arg("id", id), fmt::arg("n", bucket_count));

  OutboxSql sql;
  sql.bucket_of_row = bucket;
  // The blocked keys are computed once per claim (MATERIALIZED), from the few
  // pending poison rows; hack/sql/outbox.sql has a partial index for them.
  sql.claim = fmt::format(
      "WITH blocked AS MATERIALIZED ("
      "SELECT {key} AS k, min({id}) AS first_id FROM {table} "
      "WHERE {published} IS NULL AND {error} IS NOT NULL AND {key} IS NOT NULL GROUP BY {key}) "
      "SELECT o.{id}, o.{event_id}::text, o.{topic}, o.{key}, o.{payload}, o.{headers}::text, "
      "(extract(epoch FROM o.{created}) * 1000)::bigint "
      "FROM {table} o "
      "WHERE o.{published} IS NULL AND o.{error} IS NULL AND {bucket} = ANY($1::int[]) "
      "AND NOT EXISTS (SELECT 1 FROM blocked b WHERE b.k = o.{key} AND b.first_id < o.{id}) "
      "ORDER BY o.{id} LIMIT $2::int",
      fmt::arg("key", key), fmt::arg("id", id), fmt::arg("table", table), fmt::arg("published", published),
      fmt::arg("error", error), fmt::arg("event_id", quote(c.event_id)), fmt::arg("topic", quote(c.topic)),
      fmt::arg("payload", quote(c.payload)), fmt::arg("headers", quote(c.headers)), fmt::arg("created", created),
      fmt::arg("bucket", bucket));
  sql.mark_published =
      outbox.delete_after_publish
          ? fmt::format("DELETE FROM {} WHERE {} = ANY($1::bigint[])", table, id)
          : fmt::format("UPDATE {t} SET {p} = now(), {a} = {a} + 1, {e} = NULL "
                        "WHERE {id} = ANY($1::bigint[]) AND {p} IS NULL",
                        fmt::arg("t", table), fmt::arg("p", published), fmt::arg("a", attempts),
                        fmt::arg("e", error), fmt::arg("id", id));
  sql.mark_poison = fmt::format(
      "UPDATE {t} AS o SET {e} = v.reason, {a} = o.{a} + 1 "
      "FROM unnest($1::bigint[], $2::text[]) AS v(id, reason) WHERE o.{id} = v.id AND o.{p} IS NULL",
      fmt::arg("t", table), fmt::arg("e", error), fmt::arg("a", attempts), fmt::arg("id", id),
      fmt::arg("p", published));
  sql.backlog = fmt::format(
      "SELECT count(*), (extract(epoch FROM now() - min(o.{created})))::bigint FROM {table} o "
      "WHERE o.{published} IS NULL AND {bucket} = ANY($1::int[])",
      fmt::arg("created", created), fmt::arg("table", table), fmt::arg("published", published),
      fmt::arg("bucket", bucket));
  sql.prune = fmt::format(
      "DELETE FROM {t} WHERE {id} IN (SELECT {id} FROM {t} WHERE {p} IS NOT NULL "
      "AND {p} < now() - $1::bigint * interval '1 millisecond' LIMIT $2::int)",
      fmt::arg("t", table), fmt::arg("id", id), fmt::arg("p", published));
  sql.release_poison_like = fmt::format(
      "UPDATE {t} SET {e} = NULL WHERE {p} IS NULL AND {e} IS NOT NULL AND {e} LIKE $1",
      fmt::arg("t", table), fmt::arg("e", error), fmt::arg("p", published));
  return sql;
}

}  // namespace outflow::agent::publisher
