// Reading dead-letter headers written by Outflow's contract, Spring Kafka and Kafka Connect.

#include "agent/replayer/headers.h"

#include <gtest/gtest.h>

using namespace outflow::agent::replayer;

namespace {

std::string be32(std::int32_t v) {
  const auto u = static_cast<std::uint32_t>(v);
  return {static_cast<char>(u >> 24), static_cast<char>(u >> 16), static_cast<char>(u >> 8), static_cast<char>(u)};
}

std::string be64(std::int64_t v) {
  std::string out(8, '\0');
  auto u = static_cast<std::uint64_t>(v);
  for (int i = 7; i >= 0; --i, u >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(u & 0xff);
  return out;
}

DeadLetter letter(const Headers& h) {
  auto parsed = parse_dead_letter(h);
  if (auto* u = std::get_if<Unusable>(&parsed)) ADD_FAILURE() << "unusable: " << u->reason;
  return std::get_if<DeadLetter>(&parsed) ? std::get<DeadLetter>(parsed) : DeadLetter{};
}

std::string reason(const Headers& h) {
  auto parsed = parse_dead_letter(h);
  if (!std::holds_alternative<Unusable>(parsed)) {
    ADD_FAILURE() << "expected unusable headers";
    return {};
  }
  return std::get<Unusable>(parsed).reason;
}

}  // namespace

TEST(DeadLetterHeaders, OutflowContract) {
  const auto d = letter({{"trace-id", "t1"},
                         {"outflow-original-topic", "shop.orders"},
                         {"outflow-original-partition", "3"},
                         {"outflow-original-offset", "1234567890123"},
                         {"outflow-error", "payment service timed out"},
                         {"outflow-attempt", "2"},
                         {"outflow-failed-at", "1700000000123"}});
  EXPECT_EQ(d.style, HeaderStyle::Outflow);
  EXPECT_EQ(d.original_topic, "shop.orders");
  EXPECT_EQ(d.original_partition, 3);
  EXPECT_EQ(d.original_offset, 1234567890123);
  EXPECT_EQ(d.error, "payment service timed out");
  EXPECT_EQ(d.attempt, 2);
  EXPECT_EQ(d.failed_at_ms, 1700000000123);
}

TEST(DeadLetterHeaders, AbsentAttemptMeansTheFirstDeliveryFailed) {
  const auto d = letter({{"outflow-original-topic", "shop.orders"}});
  EXPECT_EQ(d.attempt, 1);
  EXPECT_EQ(d.original_partition, std::nullopt);
  EXPECT_EQ(d.original_offset, std::nullopt);
  EXPECT_EQ(d.error, "");
}

TEST(DeadLetterHeaders, LastOccurrenceWinsAfterAnotherTrip) {
  const auto d = letter({{"outflow-original-topic", "shop.orders"},
                         {"outflow-attempt", "2"},
                         {"outflow-error", "first"},
                         {"outflow-attempt", "3"},
                         {"outflow-error", "second"}});
  EXPECT_EQ(d.attempt, 3);
  EXPECT_EQ(d.error, "second");
}

TEST(DeadLetterHeaders, SpringWritesPartitionAndOffsetAsBigEndianBinary) {
  const auto d = letter({{"kafka_dlt-original-topic", "shop.orders"},
                         {"kafka_dlt-original-partition", be32(7)},
                         {"kafka_dlt-original-offset", be64(9876543210)},
                         {"kafka_dlt-original-timestamp", be64(1700000000000)},
                         {"kafka_dlt-exception-fqcn", "java.lang.IllegalStateException"},
                         {"kafka_dlt-exception-message", "bad order"}});
  EXPECT_EQ(d.style, HeaderStyle::Spring);
  EXPECT_EQ(d.original_topic, "shop.orders");
  EXPECT_EQ(d.original_partition, 7);
  EXPECT_EQ(d.original_offset, 9876543210);
  EXPECT_EQ(d.error, "bad order");
  EXPECT_EQ(d.attempt, 1);
}

TEST(DeadLetterHeaders, SpringWithoutMessageFallsBackToTheExceptionClass) {
  const auto d = letter({{"kafka_dlt-original-topic", "shop.orders"},
                         {"kafka_dlt-exception-fqcn", "java.lang.NullPointerException"}});
  EXPECT_EQ(d.error, "java.lang.NullPointerException");
}

TEST(DeadLetterHeaders, SpringNumbersAsTextAreReadToo) {
  // Hand-rolled recoverers copy the header names but write text.
  const auto d = letter({{"kafka_dlt-original-topic", "shop.orders"},
                         {"kafka_dlt-original-partition", "1234"},
                         {"kafka_dlt-original-offset", "42"}});
  EXPECT_EQ(d.original_partition, 1234);
  EXPECT_EQ(d.original_offset, 42);
}

TEST(DeadLetterHeaders, ConnectWritesNumbersAsText) {
  const auto d = letter({{"__connect.errors.topic", "shop.orders"},
                         {"__connect.errors.partition", "0"},
                         {"__connect.errors.offset", "12345"},
                         {"__connect.errors.connector.name", "jdbc-sink"},
                         {"__connect.errors.stage", "VALUE_CONVERTER"},
                         {"__connect.errors.exception.class.name", "org.apache.kafka.connect.errors.DataException"},
                         {"__connect.errors.exception.message", "Failed to convert amount"}});
  EXPECT_EQ(d.style, HeaderStyle::Connect);
  EXPECT_EQ(d.original_topic, "shop.orders");
  EXPECT_EQ(d.original_partition, 0);
  EXPECT_EQ(d.original_offset, 12345);
  EXPECT_EQ(d.error, "Failed to convert amount");
}

TEST(DeadLetterHeaders, OutflowHeadersWinOverAnotherStacksOnTheSameMessage) {
  const auto d = letter({{"kafka_dlt-original-topic", "other"},
                         {"outflow-original-topic", "shop.orders"},
                         {"outflow-attempt", "3"}});
  EXPECT_EQ(d.style, HeaderStyle::Outflow);
  EXPECT_EQ(d.original_topic, "shop.orders");
  EXPECT_EQ(d.attempt, 3);
}

TEST(DeadLetterHeaders, AttemptIsReadWhicheverStackWroteTheRest) {
  // The replayer republishes with outflow-attempt; Spring and Connect copy the
  // failed record's headers into the dead letter, so the count survives.
  EXPECT_EQ(letter({{"__connect.errors.topic", "t"}, {"outflow-attempt", "4"}}).attempt, 4);
  EXPECT_EQ(letter({{"kafka_dlt-original-topic", "t"}, {"outflow-attempt", "2"}}).attempt, 2);
}

TEST(DeadLetterHeaders, UnreadablePartitionOrOffsetIsNoReasonToPark) {
  const auto d = letter({{"outflow-original-topic", "shop.orders"},
                         {"outflow-original-partition", "three"},
                         {"outflow-original-offset", "-5"}});
  EXPECT_EQ(d.original_partition, std::nullopt);
  EXPECT_EQ(d.original_offset, std::nullopt);
}

TEST(DeadLetterHeaders, NoOriginalTopicIsUnusable) {
  EXPECT_EQ(reason({}), "no original-topic header (outflow-original-topic, kafka_dlt-original-topic or "
                        "__connect.errors.topic)");
  EXPECT_EQ(reason({{"outflow-error", "boom"}}), reason({}));
  EXPECT_EQ(reason({{"outflow-original-topic", ""}}), reason({}));
  EXPECT_EQ(reason({{"outflow-original-topic", std::nullopt}}), reason({}));
}

TEST(DeadLetterHeaders, AttemptThatIsNotAPositiveIntegerIsUnusable) {
  EXPECT_EQ(reason({{"outflow-original-topic", "t"}, {"outflow-attempt", "0"}}),
            "outflow-attempt header \"0\" is not a positive integer");
  EXPECT_EQ(reason({{"outflow-original-topic", "t"}, {"outflow-attempt", "two"}}),
            "outflow-attempt header \"two\" is not a positive integer");
  EXPECT_EQ(reason({{"outflow-original-topic", "t"}, {"outflow-attempt", "99999999999"}}),
            "outflow-attempt header \"99999999999\" is not a positive integer");
}

TEST(DeadLetterHeaders, NumbersParseAsTextOrBigEndian) {
  EXPECT_EQ(parse_number("42"), 42);
  EXPECT_EQ(parse_number(""), std::nullopt);
  EXPECT_EQ(parse_number("+4"), std::nullopt);
  EXPECT_EQ(parse_number(" 4"), std::nullopt);
  EXPECT_EQ(parse_number(be32(70000), 4), 70000);
  EXPECT_EQ(parse_number(be32(70000)), std::nullopt);  // binary only where the stack writes it
  EXPECT_EQ(parse_number(be64(1) , 4), std::nullopt);   // wrong width
  EXPECT_EQ(parse_number(be64(5000000000), 8), 5000000000);
}
