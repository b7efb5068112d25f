#include "agent/check/checklist.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>

namespace outflow::agent::check {

namespace {

// The types the agent's SQL works with; information_schema's spelling.
struct Expected {
  const char* field;
  std::set<std::string> types;
  const char* wanted;  // for the message
};

}  // namespace

Item outbox_columns(const std::string& table, const pipeline::OutboxColumns& c, const ColumnTypes& actual) {
  const std::set<std::string> text{"text", "character varying"};
  const std::set<std::string> timestamp{"timestamp with time zone"};
  const std::vector<std::pair<const std::string*, Expected>> expected{
      {&c.id, {"id", {"bigint", "integer"}, "bigint"}},
      {&c.event_id, {"eventId", {"uuid"}, "uuid"}},
      {&c.topic, {"topic", text, "text"}},
      {&c.key, {"key", text, "text"}},
      {&c.payload, {"payload", {"bytea"}, "bytea"}},
      {&c.headers, {"headers", {"jsonb", "json"}, "jsonb"}},
      {&c.created_at, {"createdAt", timestamp, "timestamptz"}},
      {&c.published_at, {"publishedAt", timestamp, "timestamptz"}},
      {&c.attempts, {"attempts", {"integer", "bigint", "smallint"}, "int"}},
      {&c.last_error, {"lastError", text, "text"}},
  };
  std::vector<std::string> problems;
  for (const auto& [column, want] : expected) {
    const auto it = actual.find(*column);
    if (it == actual.end()) {
      problems.push_back(fmt::format("column {} is missing (outbox.columns.{})", *column, want.field));
    } else if (!want.types.contains(it->second)) {
      problems.push_back(fmt::format("column {} is {}, expected {}", *column, it->second, want.wanted));
    }
  }
  if (problems.empty()) return {"outbox columns", Outcome::Ok, fmt::format("{} has the 10 columns the agent uses", table)};
  std::string detail = fmt::format("{}: ", table);
  for (std::size_t i = 0; i < problems.size(); ++i) detail += (i ? "; " : "") + problems[i];
  return {"outbox columns", Outcome::Failed, detail + " (see hack/sql/outbox.sql)"};
}

std::vector<Item> topics(const std::vector<pipeline::TopicSpec>& declared, const TopicPartitions& actual) {
  return topics(declared, actual, {}, {});
}

std::vector<Item> topics(const std::vector<pipeline::TopicSpec>& declared, const TopicPartitions& actual,
                         const std::set<std::string>& hidden, const std::string& principal) {
  std::vector<Item> out;
  for (const auto& t : declared) {
    const auto subject = fmt::format("topic {}", t.name);
    const auto it = actual.find(t.name);
    if (hidden.contains(t.name)) {
      out.push_back({subject, Outcome::Failed,
                     fmt::format("{} may not DESCRIBE it, so Kafka does not say whether it exists", principal)});
    } else if (it == actual.end()) {
      out.push_back({subject, Outcome::Failed,
                     "does not exist (create it: outflow-agent topics apply --config <file>, or ask your Kafka "
                     "administrators)"});
    } else if (t.partitions > 0 && it->second < t.partitions) {
      out.push_back({subject, Outcome::Failed,
                     fmt::format("has {} partitions, the config states {} (outflow-agent topics apply grows it)",
                                 it->second, t.partitions)});
    } else {
      out.push_back({subject, Outcome::Ok, fmt::format("exists, {} partitions", it->second)});
    }
  }
  return out;
}

}  // namespace outflow::agent::check
