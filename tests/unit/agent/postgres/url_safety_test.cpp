// The database URL is a Secret: what libpq says about it must name no part of it.

#include "agent/postgres/url_safety.h"

#include <gtest/gtest.h>

using outflow::pg::redact;
using outflow::pg::url_problem;

TEST(UrlSafety, QuotedPiecesOfAnUnparsableUrlAreRedacted) {
  const std::string url = "postgres://app:pa%ss@db.shop/orders";
  EXPECT_EQ(redact("invalid percent-encoded token: \"pa%ss\"", url),
            "invalid percent-encoded token: \"[redacted]\"");
  const std::string v6 = "postgres://app:hunter2@[::1/orders";
  EXPECT_EQ(redact("end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"" + v6 + "\"",
                   v6),
            "end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"[redacted]\"");
}

TEST(UrlSafety, TheUrlsIdentifyingValuesAreRedactedWhereverTheyAppear) {
  const std::string url = "postgres://outflow:s3cr%40t@db.shop:6543/orders?sslmode=require";
  EXPECT_EQ(redact("connection to server at \"db.shop\" (10.0.0.7), port 6543 failed: FATAL: password "
                   "authentication failed for user \"outflow\"",
                   url),
            "connection to server at \"[redacted]\" (10.0.0.7), port [port] failed: FATAL: password "
            "authentication failed for user \"[redacted]\"");
  // The password percent-decoded as libpq uses it, and as written.
  EXPECT_EQ(redact("echo s3cr@t and s3cr%40t", url), "echo [password] and [password]");
  EXPECT_EQ(redact("database \"orders\" does not exist", url), "database \"[redacted]\" does not exist");
  // Words that merely occur in the URL stay readable.
  EXPECT_EQ(redact("SSL is required; invalid connection option \"port\"", url),
            "SSL is required; invalid connection option \"port\"");
}

TEST(UrlSafety, UrlsLibpqCannotUseAreExplainedWithoutTheirContent) {
  for (const std::string url : {"postgres://app:pw%zz@db/orders", "postgres://app:pw@[::1/orders",
                                "postgres://app:pw@db/orders?nonsense=1"}) {
    SCOPED_TRACE(url);
    const auto problem = url_problem(url);
    ASSERT_TRUE(problem);
    EXPECT_EQ(problem->rfind("cannot be parsed (", 0), 0u) << *problem;
    EXPECT_NE(problem->find("%25"), std::string::npos) << *problem;  // says how to fix it
    EXPECT_EQ(problem->find("pw"), std::string::npos) << *problem;
    EXPECT_EQ(problem->find("app"), std::string::npos) << *problem;
  }
  for (const std::string url : {"postgres://app:pw@db:54x2/orders", "postgres://app:pw@db:0/orders",
                                "postgres://app:pw@db:65536/orders", "postgres://db1:5432,db2:x/orders"}) {
    SCOPED_TRACE(url);
    EXPECT_EQ(url_problem(url), "has a port that is not a number from 1 to 65535");
  }
}

TEST(UrlSafety, UsableUrlsHaveNoProblem) {
  for (const std::string url : {"postgres://app:p%25ss@db.shop:5432/orders?sslmode=require",
                                "postgresql://db1:5432,db2:5433/orders", "postgres:///orders",
                                "host=db port=5432 dbname=orders user=app password=x", "postgres://db/orders"}) {
    EXPECT_EQ(url_problem(url), std::nullopt) << url;
  }
}
