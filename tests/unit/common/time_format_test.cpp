#include "common/time_format.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

using outflow::format_rfc3339;
using outflow::parse_rfc3339;
using namespace std::chrono_literals;

namespace {

// 2026-11-23T10:15:00Z, the example in the header, as seconds since the epoch.
constexpr std::int64_t kExample = 1795428900;

std::chrono::system_clock::time_point at_unix(std::int64_t seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

}  // namespace

TEST(ParseRfc3339, ReadsUtcTimestampsAsTheKubernetesApiServerWritesThem) {
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00Z"), kExample);
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:01Z"), 1);
  EXPECT_EQ(parse_rfc3339("2024-02-29T23:59:59Z"), 1709251199);  // leap day
}

TEST(ParseRfc3339, AcceptsALowercaseZ) {
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00z"), kExample);
}

TEST(ParseRfc3339, AppliesNumericOffsetsToReachUtc) {
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00+00:00"), kExample);
  EXPECT_EQ(parse_rfc3339("2026-11-23T12:15:00+02:00"), kExample);
  EXPECT_EQ(parse_rfc3339("2026-11-23T05:15:00-05:00"), kExample);
  EXPECT_EQ(parse_rfc3339("2026-11-23T15:45:00+05:30"), kExample);
  EXPECT_EQ(parse_rfc3339("2026-11-23T09:45:00-00:30"), kExample);
}

TEST(ParseRfc3339, AnOffsetCanMoveTheInstantAcrossMidnight) {
  EXPECT_EQ(parse_rfc3339("2026-11-24T01:15:00+15:00"), kExample);
  EXPECT_EQ(parse_rfc3339("2026-11-22T23:15:00-11:00"), kExample);
}

TEST(ParseRfc3339, DropsFractionalSeconds) {
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00.5Z"), kExample);
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00.999999999Z"), kExample);
  EXPECT_EQ(parse_rfc3339("2026-11-23T12:15:00.123456+02:00"), kExample);
}

TEST(ParseRfc3339, RejectsTextThatIsNotATimestamp) {
  EXPECT_EQ(parse_rfc3339(""), std::nullopt);
  EXPECT_EQ(parse_rfc3339("yesterday"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("1795428900"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-11-23"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-13-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-11-23T25:00:00Z"), std::nullopt);
}

TEST(ParseRfc3339, RejectsATimestampWithoutAZone) {
  // Local time of an unknown zone cannot be turned into an instant.
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00.5"), std::nullopt);
}

TEST(ParseRfc3339, RejectsTrailingText) {
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00Zjunk"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00Z "), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00+02:00:00"), std::nullopt);
}

TEST(ParseRfc3339, RejectsADecimalPointWithoutDigits) {
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00.Z"), std::nullopt);
}

TEST(ParseRfc3339, RejectsMalformedOffsets) {
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00+"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00+02"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00+0200"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00+2:00"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00+02:0"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00+-2:00"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:15:00UTC"), std::nullopt);
}

TEST(FormatRfc3339, WritesUtcWithSecondPrecision) {
  EXPECT_EQ(format_rfc3339(at_unix(kExample)), "2026-11-23T10:15:00Z");
  EXPECT_EQ(format_rfc3339(at_unix(0)), "1970-01-01T00:00:00Z");
}

TEST(FormatRfc3339, DropsFractionsOfASecond) {
  EXPECT_EQ(format_rfc3339(at_unix(kExample) + 999ms), "2026-11-23T10:15:00Z");
}

TEST(FormatRfc3339, RoundTripsThroughParse) {
  for (const std::int64_t seconds : {std::int64_t{0}, std::int64_t{951782400}, kExample,
                                     std::int64_t{4102444799}}) {
    const auto text = format_rfc3339(at_unix(seconds));
    EXPECT_EQ(parse_rfc3339(text), seconds) << text;
  }
  EXPECT_EQ(format_rfc3339(at_unix(*parse_rfc3339("2026-11-23T12:15:00.25+02:00"))),
            "2026-11-23T10:15:00Z");
}
