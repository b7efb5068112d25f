#include "metrics_page.h"

#include <set>
#include <sstream>
#include <string_view>

namespace outflow::bench {

namespace {

// The value of `label` in a sample line's braces; empty when it has none.
std::string label_value(std::string_view line, const std::string& label) {
  const auto open = line.find('{');
  const auto close = line.find('}');
  if (open == std::string_view::npos || close == std::string_view::npos) return {};
  const auto labels = line.substr(open + 1, close - open - 1);
  const std::string wanted = label + "=\"";
  for (std::size_t at = 0; (at = labels.find(wanted, at)) != std::string_view::npos; at += wanted.size()) {
    if (at == 0 || labels[at - 1] == ',') {
      const auto begin = at + wanted.size();
      return std::string(labels.substr(begin, labels.find('"', begin) - begin));
    }
  }
  return {};
}

}  // namespace

std::map<std::string, double> sum_by_label(const std::string& page, const std::string& metric,
                                           const std::string& label) {
  std::map<std::string, double> sums;
  std::istringstream lines(page);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(metric + "{", 0) != 0) continue;
    const auto value = label_value(line, label);
    if (value.empty()) continue;
    sums[value] += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sums;
}

double api_writes(const std::string& page) {
  static const std::set<std::string> kReads = {"get", "list", "watch"};
  double writes = 0;
  for (const auto& [verb, count] : sum_by_label(page, "outflow_operator_api_requests_total", "verb")) {
    if (!kReads.contains(verb)) writes += count;
  }
  return writes;
}

double broker_changes(const std::map<std::string, double>& calls) {
  double changes = 0;
  for (const auto& [call, count] : calls) {
    if (call != "describe" && call != "cluster_id") changes += count;
  }
  return changes;
}

}  // namespace outflow::bench
