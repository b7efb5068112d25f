#include "bench/peers/delivery_tally.h"

#include <gtest/gtest.h>

namespace outflow::bench {
namespace {

TEST(BenchEventId, RoundTripsTheIndexThroughAValidUuid) {
  EXPECT_EQ(event_id_for(42), "00000000-0000-4000-8000-000000000042");
  EXPECT_EQ(index_of_event_id(event_id_for(0)), 0);
  EXPECT_EQ(index_of_event_id(event_id_for(199999)), 199999);
}

TEST(BenchEventId, RejectsIdsThatAreNotTheBenchsOwn) {
  EXPECT_EQ(index_of_event_id("3f1c9f9e-6a53-4a5e-9a3c-0d2f7c1b2e4d"), std::nullopt);  // an application's
  EXPECT_EQ(index_of_event_id("00000000-0000-4000-8000-00000000004"), std::nullopt);    // one digit short
  EXPECT_EQ(index_of_event_id("00000000-0000-4000-8000-00000000004x"), std::nullopt);
  EXPECT_EQ(index_of_event_id("\"00000000-0000-4000-8000-000000000042\""), std::nullopt);  // JSON-quoted
  EXPECT_EQ(index_of_event_id(""), std::nullopt);
}

TEST(DeliveryTally, CountsLossUntilEveryExpectedRowArrived) {
  DeliveryTally tally(3);
  EXPECT_EQ(tally.lost(), 3u);
  tally.record(event_id_for(0), 1000);
  tally.record(event_id_for(2), 1005);
  EXPECT_EQ(tally.delivered(), 2u);
  EXPECT_EQ(tally.lost(), 1u);
  EXPECT_EQ(tally.first_append_ms(1), -1);
  tally.record(event_id_for(1), 1003);
  EXPECT_EQ(tally.lost(), 0u);
}

TEST(DeliveryTally, KeepsTheFirstAppendAndCountsRedeliveriesAsDuplicates) {
  DeliveryTally tally(2);
  tally.record(event_id_for(1), 2000);
  tally.record(event_id_for(1), 2500);
  tally.record(event_id_for(1), 2600);
  EXPECT_EQ(tally.first_append_ms(1), 2000);
  EXPECT_EQ(tally.delivered(), 1u);
  EXPECT_EQ(tally.duplicates(), 2u);
}

TEST(DeliveryTally, TellsWarmUpRowsAndMessagesWithoutOurEventIdApart) {
  DeliveryTally tally(2);
  tally.record(event_id_for(2), 100);  // past the measured rows: a warm-up row
  tally.record(std::nullopt, 100);     // no header at all
  tally.record(std::string_view("not-an-id"), 100);
  EXPECT_EQ(tally.warm_up(), 1u);
  EXPECT_EQ(tally.unidentified(), 2u);
  EXPECT_EQ(tally.delivered(), 0u);
  EXPECT_EQ(tally.lost(), 2u);
}

TEST(DeliveryTally, SpansTheFirstAppendsOfTheMeasuredRowsOnly) {
  DeliveryTally tally(3);
  EXPECT_EQ(tally.earliest_ms(), -1);
  tally.record(event_id_for(5), 10);  // warm-up: not part of the span
  tally.record(event_id_for(1), 300);
  tally.record(event_id_for(0), 200);
  tally.record(event_id_for(0), 900);  // a duplicate does not stretch it
  EXPECT_EQ(tally.earliest_ms(), 200);
  EXPECT_EQ(tally.latest_ms(), 300);
}

}  // namespace
}  // namespace outflow::bench
