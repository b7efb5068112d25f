// When the operator reads a pipeline's Secrets again. Each read is a GET on
// the API server; at 1,000 new pipelines a needless second read is 1,000
// GETs while the API server is the busiest part of the cluster.

#include "operator/secrets/remembered.h"

#include <gtest/gtest.h>

namespace outflow::op::secrets {
namespace {

Fetched fetched(std::map<std::string, std::string> versions) {
  Fetched f;
  for (const auto& [name, version] : versions) {
    if (!version.empty()) f.data[name] = {{"url", "postgresql://" + name}};
  }
  f.versions = std::move(versions);
  return f;
}

TEST(SecretsRemembered, NothingReadYetMeansRead) {
  EXPECT_TRUE(must_read({{"db", "7"}}, Remembered{}));
  EXPECT_TRUE(must_read({{"db", ""}}, Remembered{}));
}

TEST(SecretsRemembered, ACacheThatHadNotSeenTheSecretYetCatchingUpAsksNothingMore) {
  // The Secret was created just before its pipeline: the metadata cache did
  // not know it when the first reconcile read it with a GET.
  Remembered memory;
  remember(memory, fetched({{"db", "7"}}));
  EXPECT_FALSE(must_read({{"db", "7"}}, memory)) << "the version the GET returned is the one the cache now shows";
  EXPECT_EQ(memory.data.at("db").at("url"), "postgresql://db");
}

TEST(SecretsRemembered, ANewVersionInTheCacheIsReadAgain) {
  Remembered memory;
  remember(memory, fetched({{"db", "7"}}));
  EXPECT_TRUE(must_read({{"db", "8"}}, memory));
}

TEST(SecretsRemembered, ASecretNamedForTheFirstTimeIsRead) {
  Remembered memory;
  remember(memory, fetched({{"db", "7"}}));
  EXPECT_TRUE(must_read({{"db", "7"}, {"kafka", "3"}}, memory));
  EXPECT_TRUE(must_read({}, memory)) << "a Secret no longer named changes what the pipeline uses too";
}

TEST(SecretsRemembered, AMissingSecretStaysMissingWithoutAnotherReadUntilItAppears) {
  Remembered memory;
  remember(memory, fetched({{"db", ""}}));
  EXPECT_FALSE(must_read({{"db", ""}}, memory));
  EXPECT_TRUE(must_read({{"db", "9"}}, memory));
}

TEST(SecretsRemembered, ADeletedSecretKeepsItsLastDataForTheTeardown) {
  Remembered memory;
  remember(memory, fetched({{"db", "7"}}));
  remember(memory, fetched({{"db", ""}}));
  EXPECT_FALSE(memory.data.contains("db"));
  EXPECT_EQ(memory.last_seen.at("db").at("url"), "postgresql://db")
      << "deleting topics after the Secret went needs the credentials last read";
}

}  // namespace
}  // namespace outflow::op::secrets
