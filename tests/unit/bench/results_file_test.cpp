#include "bench/results_file.h"

#include <gtest/gtest.h>

using outflow::bench::with_part;

TEST(ResultsFile, AFirstRunWritesItsPartUnderAMarker) {
  EXPECT_EQ(with_part("", "peers", "# Peers\nfigures"), "<!-- part: peers -->\n# Peers\nfigures\n");
}

TEST(ResultsFile, ARunRewritesItsOwnPartAndKeepsTheOthersInPlace) {
  const std::string document =
      "<!-- part: peers -->\n# Peers\nold peers\n\n<!-- part: operator -->\n# Operator\nold operator\n";
  EXPECT_EQ(with_part(document, "peers", "# Peers\nnew peers\n\n"),
            "<!-- part: peers -->\n# Peers\nnew peers\n\n<!-- part: operator -->\n# Operator\nold operator\n");
  EXPECT_EQ(with_part(document, "operator", "# Operator\nnew operator\n"),
            "<!-- part: peers -->\n# Peers\nold peers\n\n<!-- part: operator -->\n# Operator\nnew operator\n");
}

TEST(ResultsFile, ANewPartGoesAfterTheOthersBehindABlankLine) {
  EXPECT_EQ(with_part("<!-- part: peers -->\n# Peers\n", "operator", "# Operator"),
            "<!-- part: peers -->\n# Peers\n\n<!-- part: operator -->\n# Operator\n");
}

TEST(ResultsFile, TextBeforeTheFirstPartStays) {
  EXPECT_EQ(with_part("Kept by hand.\n\n<!-- part: peers -->\nold\n", "peers", "new\n"),
            "Kept by hand.\n\n<!-- part: peers -->\nnew\n");
}

TEST(ResultsFile, OnlyAWholeMarkerLineStartsAPart) {
  // A line that merely mentions a marker is a part's text, not a new part.
  const std::string document = "<!-- part: peers -->\nsee <!-- part: operator --> below\n";
  EXPECT_EQ(with_part(document, "operator", "op\n"),
            "<!-- part: peers -->\nsee <!-- part: operator --> below\n\n<!-- part: operator -->\nop\n");
}
