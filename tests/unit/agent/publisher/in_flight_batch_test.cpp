// The batch in flight: every delivery report is charged to its own row of its
// own batch, once; reports of a batch given up change nothing; and Kafka's
// silence is measured from the oldest awaited send or the last report.

#include "agent/publisher/in_flight_batch.h"

#include <gtest/gtest.h>

using namespace outflow::agent::publisher;
using namespace std::chrono_literals;

namespace {

const SteadyTime t0 = SteadyTime{} + 1h;

std::vector<OutboxRow> rows(int n) {
  std::vector<OutboxRow> out;
  for (int i = 1; i <= n; ++i) {
    OutboxRow r;
    r.id = i;
    r.key = "k" + std::to_string(i % 2);
    out.push_back(r);
  }
  return out;
}

std::vector<Outcome> planned(int n) { return std::vector<Outcome>(static_cast<std::size_t>(n), NotSent{}); }

}  // namespace

TEST(DeliveryToken, CarriesBatchAndIndexAndIsNeverZero) {
  for (const DeliveryToken t : {DeliveryToken{1, 0}, DeliveryToken{7, 499}, DeliveryToken{1ULL << 39, kMaxBatchRows - 1}}) {
    const auto value = encode(t);
    EXPECT_NE(value, 0u);
    EXPECT_EQ(decode(value), t);
  }
  EXPECT_FALSE(decode(0).has_value());
  EXPECT_FALSE(decode(std::uint64_t{5} << 24).has_value());  // a batch with no row index
}

TEST(InFlightBatch, EachReportSettlesExactlyTheRowItsTokenNames) {
  InFlightBatch batch(3, rows(3), planned(3), t0);
  const auto a = batch.sent(0, t0);
  const auto b = batch.sent(1, t0);
  const auto c = batch.sent(2, t0);
  EXPECT_EQ(batch.awaiting(), 3u);
  EXPECT_TRUE(batch.report(c, Delivered{30}, t0 + 1ms));
  EXPECT_TRUE(batch.report(a, Failed{"broker gone"}, t0 + 2ms));
  EXPECT_FALSE(batch.complete());
  EXPECT_TRUE(std::holds_alternative<Failed>(batch.outcomes()[0]));
  EXPECT_TRUE(std::holds_alternative<NotSent>(batch.outcomes()[1]));
  EXPECT_TRUE(std::holds_alternative<Delivered>(batch.outcomes()[2]));
  EXPECT_TRUE(batch.report(b, Delivered{40}, t0 + 3ms));
  EXPECT_TRUE(batch.complete());
}

TEST(InFlightBatch, AReportForAnotherBatchOrARepeatChangesNothing) {
  InFlightBatch previous(4, rows(2), planned(2), t0);
  const auto stale = previous.sent(1, t0);
  InFlightBatch batch(5, rows(2), planned(2), t0);
  const auto mine = batch.sent(1, t0);
  // The late report of the previous batch names the same index: it must not
  // mark this batch's row as delivered (that row's own message may still fail).
  EXPECT_FALSE(batch.report(stale, Delivered{1}, t0));
  EXPECT_EQ(batch.awaiting(), 1u);
  EXPECT_TRUE(batch.report(mine, Failed{"x"}, t0));
  EXPECT_FALSE(batch.report(mine, Delivered{2}, t0));  // one report per message
  EXPECT_TRUE(std::holds_alternative<Failed>(batch.outcomes()[1]));
  EXPECT_FALSE(batch.report(encode({5, 9}), Delivered{3}, t0));  // no such row
}

TEST(InFlightBatch, AnAbandonedBatchLeavesAwaitedRowsPendingAndIgnoresLateReports) {
  InFlightBatch batch(1, rows(3), planned(3), t0);
  const auto a = batch.sent(0, t0);
  const auto b = batch.sent(1, t0);
  ASSERT_TRUE(batch.report(a, Delivered{5}, t0));
  batch.abandon();
  EXPECT_TRUE(batch.complete());
  EXPECT_TRUE(std::holds_alternative<Delivered>(batch.outcomes()[0]));
  EXPECT_TRUE(std::holds_alternative<NotSent>(batch.outcomes()[1]));
  EXPECT_FALSE(batch.report(b, Delivered{6}, t0));
  EXPECT_TRUE(std::holds_alternative<NotSent>(batch.outcomes()[1]));
}

TEST(InFlightBatch, ARowSettledAtOnceIsNotAwaited) {
  InFlightBatch batch(1, rows(2), planned(2), t0);
  (void)batch.sent(0, t0);
  batch.settled_now(1, Poison{"client refused it"});
  EXPECT_EQ(batch.awaiting(), 1u);
  EXPECT_TRUE(std::holds_alternative<Poison>(batch.outcomes()[1]));
}

TEST(InFlightBatch, SilenceRunsFromTheOldestSendOrTheLastReportAndStopsWhenNothingWaits) {
  InFlightBatch batch(1, rows(3), planned(3), t0);
  EXPECT_EQ(batch.silence(t0 + 10s), 0s);  // nothing sent, nothing awaited
  const auto a = batch.sent(0, t0);
  (void)batch.sent(1, t0 + 1s);
  (void)batch.sent(2, t0 + 2s);
  EXPECT_EQ(batch.silence(t0 + 5s), 5s);
  ASSERT_TRUE(batch.report(a, Delivered{1}, t0 + 6s));
  EXPECT_EQ(batch.silence(t0 + 8s), 2s);  // Kafka answered at 6 s
  batch.abandon();
  EXPECT_EQ(batch.silence(t0 + 60s), 0s);
}

TEST(InFlightBatch, RefusesMismatchedPlans) {
  EXPECT_THROW(InFlightBatch(1, rows(2), planned(1), t0), std::invalid_argument);
}
