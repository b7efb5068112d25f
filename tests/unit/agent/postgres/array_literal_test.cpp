#include "agent/postgres/array_literal.h"

#include <gtest/gtest.h>

using outflow::pg::array_literal;

TEST(ArrayLiteral, NumbersAreCommaSeparatedInBraces) {
  EXPECT_EQ(array_literal(std::vector<std::int64_t>{1, -2, 9007199254740993}), "{1,-2,9007199254740993}");
  EXPECT_EQ(array_literal(std::vector<int>{}), "{}");
}

TEST(ArrayLiteral, TextElementsArriveVerbatimWhateverTheyContain) {
  // Commas, braces, quotes, backslashes and the word NULL must not change
  // how PostgreSQL splits or reads the array.
  EXPECT_EQ(array_literal(std::vector<std::string>{"a,b", "{x}", "say \"hi\"", "c:\\tmp", "NULL", ""}),
            R"({"a,b","{x}","say \"hi\"","c:\\tmp","NULL",""})");
}
