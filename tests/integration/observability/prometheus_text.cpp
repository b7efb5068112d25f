#include "observability/prometheus_text.h"

#include <regex>
#include <sstream>

namespace outflow::observability_tests {
namespace {

std::vector<std::string> regex_all(const std::string& text, const std::regex& re, int group) {
  std::vector<std::string> out;
  for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) out.push_back((*it)[group]);
  return out;
}

}  // namespace

Exposition parse_exposition(const std::string& page) {
  Exposition out;
  std::istringstream in(page);
  const std::regex type_line(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+))");
  const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? \S+.*$)");
  const std::regex label(R"(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)\")");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, type_line)) {
      out.type_by_family[m[1]] = m[2];
      continue;
    }
    if (line.empty() || line[0] == '#' || !std::regex_match(line, m, sample)) continue;
    Series s{m[1], {}};
    const std::string labels = m[3];
    for (std::sregex_iterator it(labels.begin(), labels.end(), label), end; it != end; ++it) {
      s.labels[(*it)[1]] = (*it)[2];
    }
    auto& names = out.labels_by_name[s.name];
    for (const auto& [k, v] : s.labels) names.insert(k);
    out.series.push_back(std::move(s));
  }
  return out;
}

std::string series_text(const Series& s) {
  std::string text = s.name + "{";
  bool first = true;
  for (const auto& [k, v] : s.labels) {
    text += (first ? "" : ",") + k + "=\"" + v + "\"";
    first = false;
  }
  return text + "}";
}

References references(const std::string& expr) {
  References r;
  // Strings first: a label value must not count as a name.
  const std::string bare = std::regex_replace(expr, std::regex(R"("(?:[^"\\]|\\.)*")"), "\"\"");
  for (const auto& name : regex_all(bare, std::regex(R"(\b(outflow_[a-z0-9_]+|up)\b)"), 1)) {
    r.metrics.insert(name);
  }
  for (const auto& name : regex_all(bare, std::regex(R"(\b(?:rate|irate|increase)\(\s*(outflow_[a-z0-9_]+))"), 1)) {
    r.counted.insert(name);
  }
  for (const auto& name : regex_all(bare, std::regex(R"(([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"")"), 1)) {
    r.labels.insert(name);
  }
  for (const auto& list : regex_all(bare, std::regex(R"(\b(?:by|without|on|ignoring)\s*\(([^)]*)\))"), 1)) {
    for (const auto& name : regex_all(list, std::regex(R"([a-zA-Z_][a-zA-Z0-9_]*)"), 0)) r.labels.insert(name);
  }
  return r;
}

}  // namespace outflow::observability_tests
