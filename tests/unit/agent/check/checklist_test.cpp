#include "agent/check/checklist.h"

#include <gtest/gtest.h>

using namespace outflow::agent::check;
namespace pipeline = outflow::pipeline;

namespace {

ColumnTypes shipped_table() {
  return {{"id", "bigint"},
          {"event_id", "uuid"},
          {"topic", "text"},
          {"key", "text"},
          {"payload", "bytea"},
          {"headers", "jsonb"},
          {"created_at", "timestamp with time zone"},
          {"published_at", "timestamp with time zone"},
          {"attempts", "integer"},
          {"last_error", "text"}};
}

pipeline::TopicSpec topic(const std::string& name, int partitions) {
  pipeline::TopicSpec t;
  t.name = name;
  t.partitions = partitions;
  return t;
}

}  // namespace

TEST(CheckList, TheShippedOutboxTablePasses) {
  EXPECT_EQ(outbox_columns("shop.outbox", {}, shipped_table()),
            (Item{"outbox columns", Outcome::Ok, "shop.outbox has the 10 columns the agent uses"}));
}

TEST(CheckList, EveryMissingOrMistypedColumnIsNamedWithItsSetting) {
  auto types = shipped_table();
  types.erase("event_id");
  types["payload"] = "text";
  types["created_at"] = "timestamp without time zone";
  pipeline::OutboxColumns columns;
  columns.key = "partition_key";
  EXPECT_EQ(outbox_columns("outbox", columns, types).detail,
            "outbox: column event_id is missing (outbox.columns.eventId); column partition_key is missing "
            "(outbox.columns.key); column payload is text, expected bytea; column created_at is timestamp "
            "without time zone, expected timestamptz (see hack/sql/outbox.sql)");
  EXPECT_EQ(outbox_columns("outbox", columns, types).outcome, Outcome::Failed);
}

TEST(CheckList, CompatibleTypesAreAccepted) {
  auto types = shipped_table();
  types["id"] = "integer";
  types["key"] = "character varying";
  types["headers"] = "json";
  EXPECT_EQ(outbox_columns("outbox", {}, types).outcome, Outcome::Ok);
}

TEST(CheckList, TopicsMustExistWithAtLeastTheStatedPartitions) {
  const auto items = topics({topic("a", 3), topic("b", 0), topic("c", 6), topic("d", 1)}, {{"a", 3}, {"b", 12}, {"c", 2}});
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0], (Item{"topic a", Outcome::Ok, "exists, 3 partitions"}));
  EXPECT_EQ(items[1], (Item{"topic b", Outcome::Ok, "exists, 12 partitions"}));  // 0: any layout
  EXPECT_EQ(items[2], (Item{"topic c", Outcome::Failed,
                            "has 2 partitions, the config states 6 (outflow-agent topics apply grows it)"}));
  EXPECT_EQ(items[3], (Item{"topic d", Outcome::Failed,
                            "does not exist (create it: outflow-agent topics apply --config <file>, or ask your "
                            "Kafka administrators)"}));
}

TEST(CheckList, TheVerdictCountsFailuresAndSkipsAreNoFailure) {
  const std::vector<Item> good{{"postgres", Outcome::Ok, "connected"}, {"topic t", Outcome::Skipped, "why"}};
  EXPECT_EQ(render(good), "  ok    postgres: connected\n  skip  topic t: why\nverdict: ready, every check passed\n");
  EXPECT_EQ(exit_code(good), kExitReady);
  const std::vector<Item> bad{{"postgres", Outcome::Failed, "x"}, {"kafka", Outcome::Failed, "y"}};
  EXPECT_EQ(render(bad), "  FAIL  postgres: x\n  FAIL  kafka: y\nverdict: NOT READY, 2 checks failed\n");
  EXPECT_EQ(exit_code(bad), kExitFailed);
}
