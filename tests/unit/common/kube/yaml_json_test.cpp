#include "common/kube/yaml_json.h"

#include <gtest/gtest.h>

using outflow::kube::parse_yaml_documents;
using outflow::kube::YamlError;
using nlohmann::json;

namespace {
json one(const std::string& text) {
  auto docs = parse_yaml_documents(text);
  EXPECT_EQ(docs.size(), 1u);
  return docs.empty() ? json() : docs[0];
}
}  // namespace

TEST(YamlToJson, PlainScalarsResolveLikeKubectl) {
  const auto j = one(R"(
count: 12
negative: -3
hex: 0x1F
ratio: 1.5
on: yes
off: Off
nothing: ~
empty:
text: zstd
version: 1.2.3
)");
  EXPECT_EQ(j["count"], 12);
  EXPECT_EQ(j["negative"], -3);
  EXPECT_EQ(j["hex"], 31);
  EXPECT_DOUBLE_EQ(j["ratio"].get<double>(), 1.5);
  EXPECT_EQ(j["on"], true);
  EXPECT_EQ(j["off"], false);
  EXPECT_TRUE(j["nothing"].is_null());
  EXPECT_TRUE(j["empty"].is_null());
  EXPECT_EQ(j["text"], "zstd");
  EXPECT_EQ(j["version"], "1.2.3");
}

TEST(YamlToJson, QuotedAndTaggedScalarsStayStrings) {
  const auto j = one(R"(
a: "604800000"
b: 'true'
c: !!str 42
d: "~"
)");
  EXPECT_EQ(j["a"], "604800000");
  EXPECT_EQ(j["b"], "true");
  EXPECT_EQ(j["c"], "42");
  EXPECT_EQ(j["d"], "~");
}

TEST(YamlToJson, NestedSequencesAndFlowMaps) {
  const auto j = one("topics:\n- {name: a, partitions: 3}\n- name: b\n  config: {x: \"1\"}\n");
  ASSERT_TRUE(j["topics"].is_array());
  EXPECT_EQ(j["topics"][0]["partitions"], 3);
  EXPECT_EQ(j["topics"][1]["config"]["x"], "1");
}

TEST(YamlToJson, IntegersTooLargeForInt64BecomeFloatsAsInKubectl) {
  const auto n = one("n: 99999999999999999999")["n"];
  ASSERT_TRUE(n.is_number_float());
  EXPECT_DOUBLE_EQ(n.get<double>(), 1e20);
}

TEST(YamlToJson, MultipleDocumentsSkipEmptyOnes) {
  const auto docs = parse_yaml_documents("---\na: 1\n---\n---\nb: 2\n");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[1]["b"], 2);
}

TEST(YamlToJson, SyntaxErrorsGiveLineAndColumn) {
  try {
    parse_yaml_documents("a: 1\nb: [unclosed\n");
    FAIL() << "expected YamlError";
  } catch (const YamlError& e) {
    EXPECT_NE(std::string(e.what()).find("line"), std::string::npos) << e.what();
  }
}
