#include "common/flags.h"

#include <gtest/gtest.h>

using outflow::flags::parse_duration;
using outflow::flags::parse_listen_address;
using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsGoStyleUnitsAndCombinations) {
  EXPECT_EQ(parse_duration("1500ms"), 1500ms);
  EXPECT_EQ(parse_duration("30s"), 30s);
  EXPECT_EQ(parse_duration("10m"), 10min);
  EXPECT_EQ(parse_duration("1h30m"), 90min);
  EXPECT_EQ(parse_duration("0s"), 0ms);
}

TEST(ParseDuration, RejectsMissingUnitsNegativesAndJunk) {
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("30"));  // ambiguous without a unit
  EXPECT_FALSE(parse_duration("-5s"));
  EXPECT_FALSE(parse_duration("5d"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("10m junk"));
}

TEST(ParseDuration, RejectsDurationsNoClockCouldAddInsteadOfWrappingAround) {
  EXPECT_FALSE(parse_duration("99999999999999999h"));  // amount × unit overflows
  EXPECT_FALSE(parse_duration("876000h1h"));           // the sum passes 100 years
  EXPECT_EQ(parse_duration("876000h"), std::chrono::hours(876000));  // exactly 100 years still fits
}

TEST(ParseListenAddress, AcceptsHostPortForms) {
  auto all = parse_listen_address(":8080");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->host, "");
  EXPECT_EQ(all->port, 8080);
  auto v4 = parse_listen_address("127.0.0.1:0");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 0);
  auto v6 = parse_listen_address("[::1]:9090");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9090);
}

TEST(ParseListenAddress, RejectsWhatCannotBeBound) {
  EXPECT_FALSE(parse_listen_address("8080"));
  EXPECT_FALSE(parse_listen_address("host:"));
  EXPECT_FALSE(parse_listen_address("host:65536"));
  EXPECT_FALSE(parse_listen_address("host:80x"));
  EXPECT_FALSE(parse_listen_address("::1:80"));  // IPv6 needs brackets
}
