#include "common/kube/yaml_json.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <regex>

namespace outflow::kube {
namespace {

using nlohmann::json;

bool one_of(const std::string& s, std::initializer_list<const char*> options) {
  for (const char* o : options) {
    if (s == o) return true;
  }
  return false;
}

std::optional<json> as_integer(const std::string& s) {
  static const std::regex decimal("^[-+]?(0|[1-9][0-9_]*)$");
  static const std::regex hex("^[-+]?0x[0-9a-fA-F_]+$");
  static const std::regex octal("^[-+]?0[0-7_]+$");  // YAML 1.1 octal, as go-yaml v2
  int base = 0;
  if (std::regex_match(s, decimal)) {
    base = 10;
  } else if (std::regex_match(s, hex)) {
    base = 16;
  } else if (std::regex_match(s, octal)) {
    base = 8;
  } else {
    return std::nullopt;
  }
  std::string digits;
  bool negative = false;
  for (char c : s) {
    if (c == '_' || c == '+') continue;
    if (c == '-') {
      negative = true;
      continue;
    }
    digits.push_back(c);
  }
  if (base == 16) digits = digits.substr(2);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;  // out of int64 range: falls through to a float, as kubectl does
  }
  return json(negative ? -value : value);
}

std::optional<json> as_float(const std::string& s) {
  static const std::regex number("^[-+]?(\\.[0-9]+|[0-9][0-9_]*(\\.[0-9_]*)?)([eE][-+]?[0-9]+)?$");
  if (one_of(s, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})) {
    return json(std::numeric_limits<double>::infinity());
  }
  if (one_of(s, {"-.inf", "-.Inf", "-.INF"})) return json(-std::numeric_limits<double>::infinity());
  if (!std::regex_match(s, number)) return std::nullopt;
  std::string cleaned;
  for (char c : s) {
    if (c != '_') cleaned.push_back(c);
  }
  return json(std::stod(cleaned));
}

json resolve_plain(const std::string& s) {
  if (s.empty() || one_of(s, {"~", "null", "Null", "NULL"})) return nullptr;
  if (one_of(s, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"})) return true;
  if (one_of(s, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"})) return false;
  if (auto i = as_integer(s)) return *i;
  if (auto f = as_float(s)) return *f;
  return s;
}

json scalar(const YAML::Node& node) {
  const auto& tag = node.Tag();
  const auto& text = node.Scalar();
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return text;  // quoted or explicitly a string
  if (tag == "tag:yaml.org,2002:int") {
    if (auto i = as_integer(text)) return *i;
    throw YamlError(fmt::format("line {}: \"{}\" is not an integer", node.Mark().line + 1, text));
  }
  if (tag == "tag:yaml.org,2002:bool") return resolve_plain(text).is_boolean() ? resolve_plain(text) : json(text);
  return resolve_plain(text);
}

}  // namespace

nlohmann::json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar(node);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          throw YamlError(fmt::format("line {}: map keys must be plain values", entry.first.Mark().line + 1));
        }
        out[entry.first.Scalar()] = yaml_to_json(entry.second);
      }
      return out;
    }
  }
  return nullptr;
}

std::vector<nlohmann::json> parse_yaml_documents(const std::string& text) {
  std::vector<YAML::Node> nodes;
  try {
    nodes = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    throw YamlError(fmt::format("YAML syntax error at line {}, column {}: {}", e.mark.line + 1,
                                e.mark.column + 1, e.msg));
  }
  std::vector<nlohmann::json> out;
  for (const auto& node : nodes) {
    auto doc = yaml_to_json(node);
    if (!doc.is_null()) out.push_back(std::move(doc));
  }
  return out;
}

}  // namespace outflow::kube
