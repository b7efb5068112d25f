#include "common/log/logging.h"

#include <gtest/gtest.h>

using outflow::log::Format;
using outflow::log::parse_format;
using outflow::log::parse_level;

TEST(LogFlags, FormatIsTextOrJson) {
  EXPECT_EQ(parse_format("text"), Format::Text);
  EXPECT_EQ(parse_format("json"), Format::Json);
  EXPECT_FALSE(parse_format("JSON"));
  EXPECT_FALSE(parse_format("yaml"));
}

TEST(LogFlags, LevelsIncludeCommonSpellings) {
  EXPECT_EQ(parse_level("debug"), spdlog::level::debug);
  EXPECT_EQ(parse_level("info"), spdlog::level::info);
  EXPECT_EQ(parse_level("warn"), spdlog::level::warn);
  EXPECT_EQ(parse_level("warning"), spdlog::level::warn);
  EXPECT_EQ(parse_level("error"), spdlog::level::err);
  EXPECT_FALSE(parse_level("loud"));
}
