#include "operator/workloads/image_policy.h"

#include <gtest/gtest.h>

using namespace outflow::op::workloads;

namespace {

OperatorDefaults operator_with(std::vector<std::string> allowed) {
  OperatorDefaults d;
  d.agent_image = "registry.example/outflow-agent:0.1.0";
  d.allowed_agent_images = std::move(allowed);
  return d;
}

}  // namespace

TEST(ImagePolicy, TheOperatorsOwnImageRunsWhetherNamedOrLeftEmpty) {
  const auto d = operator_with({});
  EXPECT_EQ(refuse_agent_image("", d), std::nullopt);
  EXPECT_EQ(refuse_agent_image("registry.example/outflow-agent:0.1.0", d), std::nullopt);
  EXPECT_EQ(effective_agent_image("", d), "registry.example/outflow-agent:0.1.0");
  EXPECT_EQ(effective_agent_image("other:1", d), "other:1");
}

TEST(ImagePolicy, ByDefaultEveryOtherImageIsRefused) {
  const auto d = operator_with({});
  EXPECT_NE(refuse_agent_image("registry.example/outflow-agent:0.2.0", d), std::nullopt);
  EXPECT_NE(refuse_agent_image("evil.example/miner:latest", d), std::nullopt);
}

TEST(ImagePolicy, TheRefusalNamesTheImageWhatIsAllowedAndTheSettingToChange) {
  const auto message = refuse_agent_image("evil.example/miner:latest", operator_with({"registry.example/team/*"}));
  ASSERT_TRUE(message.has_value());
  EXPECT_NE(message->find("\"evil.example/miner:latest\""), std::string::npos) << *message;
  EXPECT_NE(message->find("registry.example/outflow-agent:0.1.0, registry.example/team/*"), std::string::npos)
      << *message;
  EXPECT_NE(message->find("agent.allowedImages"), std::string::npos) << *message;
  EXPECT_NE(message->find("--allowed-agent-images"), std::string::npos) << *message;
}

TEST(ImagePolicy, ExactEntriesAllowOnlyThatReference) {
  const auto d = operator_with({"mirror.example/outflow-agent:0.1.0"});
  EXPECT_EQ(refuse_agent_image("mirror.example/outflow-agent:0.1.0", d), std::nullopt);
  EXPECT_NE(refuse_agent_image("mirror.example/outflow-agent:0.1.0-debug", d), std::nullopt);
  EXPECT_NE(refuse_agent_image("mirror.example/outflow-agent:0.1", d), std::nullopt);
  // No registry defaulting: a different spelling is a different reference.
  EXPECT_NE(refuse_agent_image("docker.io/mirror.example/outflow-agent:0.1.0", d), std::nullopt);
}

TEST(ImagePolicy, EntriesEndingInStarAllowEveryImageWithThatPrefix) {
  const auto d = operator_with({"registry.example/outflow-agent:*"});
  EXPECT_EQ(refuse_agent_image("registry.example/outflow-agent:0.2.0", d), std::nullopt);
  EXPECT_EQ(refuse_agent_image("registry.example/outflow-agent:0.2.0@sha256:abc", d), std::nullopt);
  EXPECT_NE(refuse_agent_image("registry.example/outflow-agent-fork:1", d), std::nullopt);
  EXPECT_NE(refuse_agent_image("registry.example/other:1", d), std::nullopt);
  EXPECT_TRUE(image_matches("anything:1", "*"));
  EXPECT_FALSE(image_matches("a:1", "a:1*x"));
}

TEST(ImagePolicy, EntriesWithAStarInsideEmptyOrWithSpacesAreInvalid) {
  EXPECT_EQ(invalid_image_pattern("registry.example/outflow-agent:*"), std::nullopt);
  EXPECT_EQ(invalid_image_pattern("registry.example/outflow-agent:1"), std::nullopt);
  EXPECT_NE(invalid_image_pattern("registry.example/*/agent:1"), std::nullopt);
  EXPECT_NE(invalid_image_pattern(""), std::nullopt);
  EXPECT_NE(invalid_image_pattern("agent: 1"), std::nullopt);
}
