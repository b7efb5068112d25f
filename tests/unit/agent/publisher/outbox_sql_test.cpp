// The SQL the publisher runs; its behaviour is proven against PostgreSQL in the
// integration tests, these pin what depends on the spec.

#include "agent/publisher/outbox_sql.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace outflow;
using namespace outflow::agent::publisher;

TEST(OutboxSql, IdentifiersAreQuotedSoReservedWordsWork) {
  EXPECT_EQ(quote_qualified("outbox"), "\"outbox\"");
  EXPECT_EQ(quote_qualified("shop.outbox"), "\"shop\".\"outbox\"");
  pipeline::OutboxSpec outbox;
  outbox.columns.key = "order";
  const auto sql = outbox_sql(outbox, 64);
  EXPECT_NE(sql.claim.find("o.\"order\""), std::string::npos) << sql.claim;
}

TEST(OutboxSql, OverriddenColumnNamesAreUsedEverywhere) {
  pipeline::OutboxSpec outbox;
  outbox.table = "app.events_out";
  outbox.columns.published_at = "sent_at";
  outbox.columns.last_error = "failure";
  const auto sql = outbox_sql(outbox, 64);
  for (const auto* text : {&sql.claim, &sql.mark_published, &sql.mark_poison, &sql.backlog, &sql.prune,
                           &sql.prune_step}) {
    EXPECT_NE(text->find("\"app\".\"events_out\""), std::string::npos) << *text;
    EXPECT_EQ(text->find("published_at"), std::string::npos) << *text;
  }
  EXPECT_NE(sql.claim.find("\"failure\""), std::string::npos);
}

TEST(OutboxSql, DeleteAfterPublishDeletesInsteadOfMarking) {
  pipeline::OutboxSpec outbox;
  EXPECT_EQ(outbox_sql(outbox, 64).mark_published.rfind("UPDATE", 0), 0u);
  outbox.delete_after_publish = true;
  EXPECT_EQ(outbox_sql(outbox, 64).mark_published.rfind("DELETE", 0), 0u);
}

TEST(OutboxSql, TheBucketCountIsPartOfTheSplit) {
  pipeline::OutboxSpec outbox;
  EXPECT_NE(outbox_sql(outbox, 64).bucket_of_row.find("% 64"), std::string::npos);
  EXPECT_NE(outbox_sql(outbox, 16).bucket_of_row.find("% 16"), std::string::npos);
}

TEST(OutboxSql, AResolvedTableIsUsedAsGiven) {
  pipeline::OutboxSpec outbox;  // "outbox", unqualified
  const auto sql = outbox_sql(outbox, 64, quote_identifier("team.a") + "." + quote_identifier("outbox"));
  EXPECT_NE(sql.claim.find("FROM \"team.a\".\"outbox\" o"), std::string::npos) << sql.claim;
  EXPECT_EQ(quote_identifier("we\"ird"), "\"we\"\"ird\"");
}

TEST(OutboxSql, PruningWalksThePrimaryKeyFromACursor) {
  const auto sql = outbox_sql(pipeline::OutboxSpec{}, 64).prune_step;
  EXPECT_NE(sql.find("WHERE o.\"id\" > $1::bigint ORDER BY o.\"id\" LIMIT $2::int"), std::string::npos) << sql;
  EXPECT_NE(sql.find("DELETE FROM \"outbox\" o WHERE o.\"id\" > $1::bigint AND o.\"id\" <="), std::string::npos)
      << sql;
}

TEST(OutboxSql, TheTriggerInHackSqlNotifiesTheChannelTheAgentListensOn) {
  std::ifstream in(OUTFLOW_SOURCE_DIR "/hack/sql/outbox.sql");
  ASSERT_TRUE(in) << "cannot read hack/sql/outbox.sql";
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("pg_notify(" + notify_channel_sql("TG_TABLE_SCHEMA", "TG_TABLE_NAME") + ","),
            std::string::npos)
      << "hack/sql/outbox.sql must notify on " << notify_channel_sql("TG_TABLE_SCHEMA", "TG_TABLE_NAME");
}
