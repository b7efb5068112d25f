// The housekeeper on its own PostgreSQL session against the real server:
// gauges that keep refreshing and pruning that keeps up with publishing.

#include "agent/outbox_fixture.h"
#include "agent/publisher/housekeeper.h"
#include "child_process.h"
#include "testenv.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <numeric>
#include <thread>

using namespace outflow;
using namespace outflow::agent::publisher;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

namespace {

std::set<int> all_buckets() {
  std::set<int> all;
  for (int b = 0; b < kBucketCount; ++b) all.insert(b);
  return all;
}

HousekeeperSettings settings_for(const testenv::OutboxDb& db) {
  HousekeeperSettings s;
  s.database_url = testenv::require("OUTFLOW_TEST_PG_URL");
  s.outbox.table = db.table();
  s.backlog_interval = 200ms;
  return s;
}

}  // namespace

TEST(Housekeeper, GaugesRefreshOnTheirOwnScheduleWhileThePublishingSessionIsBusy) {
  testenv::OutboxDb db;
  std::atomic<int> reports{0};
  Housekeeper housekeeper(settings_for(db), [&](const Backlog&) { ++reports; });
  housekeeper.start();
  EXPECT_FALSE(testenv::eventually([&] { return reports.load() > 0; }, 500ms, 50ms))
      << "counted before the publisher said which buckets it owns";

  // The publishing session is stuck in a long statement (as in a batch that
  // waits out a broker outage); the gauges must not care.
  auto publishing = pg::Connection::open(testenv::require("OUTFLOW_TEST_PG_URL"));
  std::thread busy([&] { publishing.exec("SELECT pg_sleep(4)"); });
  housekeeper.set_owned(all_buckets());
  db.insert_many(40, 4);
  EXPECT_TRUE(testenv::eventually([&] { return housekeeper.backlog() && housekeeper.backlog()->rows == 40; }, 2s, 50ms));
  db.insert_many(60, 4, 0, 40);
  EXPECT_TRUE(testenv::eventually([&] { return housekeeper.backlog()->rows == 100; }, 2s, 50ms))
      << housekeeper.backlog()->rows;
  EXPECT_TRUE(housekeeper.backlog()->oldest_age_seconds.has_value());
  busy.join();

  // Only the owned buckets count; none owned, nothing pending here.
  housekeeper.set_owned({});
  EXPECT_TRUE(testenv::eventually([&] { return housekeeper.backlog()->rows == 0; }, 2s, 50ms));
  EXPECT_FALSE(housekeeper.backlog()->oldest_age_seconds.has_value());
  EXPECT_TRUE(housekeeper.stats().connected);
  EXPECT_TRUE(housekeeper.stats().last_error.empty());
}

TEST(Housekeeper, PruningKeepsTheTableBoundedUnderASustainedInsertRate) {
  testenv::OutboxDb db;
  auto s = settings_for(db);
  s.outbox.published_retention_ms = 1000;
  s.prune.interval = 1s;
  Housekeeper housekeeper(std::move(s));
  housekeeper.set_owned(all_buckets());  // owns bucket 0: this replica prunes
  housekeeper.start();

  // Rows as the publisher leaves them: published at once, 8,000 a second
  // (the old pruning managed about 1,700), for 15 seconds.
  const int rate = 8000;
  std::int64_t peak = 0;
  const auto start = Steady::now();
  for (int tick = 0; tick < 150; ++tick) {
    db.sql().exec(fmt::format("INSERT INTO outbox (event_id, key, payload, published_at) "
                              "SELECT gen_random_uuid(), 'k' || i % 50, 'x', now() FROM generate_series(1, {}) AS i",
                              rate / 10));
    std::this_thread::sleep_until(start + (tick + 1) * 100ms);  // paces the insert rate
    if (tick % 10 == 9) peak = std::max(peak, db.count("true"));
  }
  const auto took = std::chrono::duration<double>(Steady::now() - start).count();
  std::cout << "inserted " << 150 * rate / 10 << " rows in " << took << " s (" << 150 * rate / 10 / took
            << " rows/s); peak table size " << peak << ", pruned " << housekeeper.stats().pruned_total << "\n";
  // Retention (1 s) + interval (1 s) + a step's slack, at the insert rate.
  EXPECT_LT(peak, rate * 4);
  EXPECT_TRUE(testenv::eventually([&] { return db.count("true") < rate * 3; }, 5s, 100ms));
  EXPECT_TRUE(housekeeper.stats().last_error.empty()) << housekeeper.stats().last_error;
}

TEST(Housekeeper, PruningSkipsPendingAndRecentRowsAndOnlyTheOwnerOfBucketZeroPrunes) {
  testenv::OutboxDb db;
  // Pending rows at the bottom (held back behind a poison row), old
  // published rows after them, then recent ones.
  db.insert_many(300, 3);
  db.sql().exec("UPDATE outbox SET last_error = 'poison' WHERE id = (SELECT min(id) FROM outbox)");
  db.insert_many(3000, 30, 0, 300);
  db.sql().exec(
      "UPDATE outbox SET created_at = now() - interval '3 hours', published_at = now() - interval '2 hours' "
      "WHERE id > (SELECT min(id) + 299 FROM outbox)");
  db.sql().exec("UPDATE outbox SET created_at = now() - interval '3 hours' WHERE published_at IS NULL");
  db.insert_many(200, 3, 0, 3300);
  db.sql().exec("UPDATE outbox SET published_at = now() WHERE published_at IS NULL AND id > (SELECT min(id) + 3299 FROM outbox)");

  auto s = settings_for(db);
  s.outbox.published_retention_ms = 3600000;
  s.prune.initial_batch = 500;  // several steps
  std::set<int> without_zero = all_buckets();
  without_zero.erase(0);
  Housekeeper other(s);
  other.set_owned(without_zero);
  other.start();
  Housekeeper owner(s);
  owner.set_owned({0});
  ASSERT_TRUE(testenv::eventually([&] { return other.backlog().has_value(); }, 5s, 50ms));
  EXPECT_EQ(db.count("true"), 3500);  // the replica without bucket 0 pruned nothing
  owner.start();
  EXPECT_TRUE(testenv::eventually([&] { return db.count("true") == 500; }, 10s, 100ms)) << db.count("true");
  EXPECT_EQ(db.count("published_at IS NULL"), 300);
  EXPECT_EQ(db.count("published_at > now() - interval '1 hour'"), 200);
  EXPECT_EQ(owner.stats().pruned_total, 3000);
}
