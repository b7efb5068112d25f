#pragma once

// What a /metrics page exports, read back the way Prometheus reads it, and
// what a PromQL expression refers to. The tests check the dashboard's and
// the alert rules' queries against the first with the second; promtool then
// evaluates them for real.

#include <map>
#include <set>
#include <string>
#include <vector>

namespace outflow::observability_tests {

struct Series {
  std::string name;
  std::map<std::string, std::string> labels;
};

struct Exposition {
  std::vector<Series> series;
  std::map<std::string, std::set<std::string>> labels_by_name;  // sample name -> its label names
  std::map<std::string, std::string> type_by_family;            // "# TYPE" lines
};

// Parses Prometheus' text format (sample lines and # TYPE; no escapes in
// label values beyond \" and \\, which our binaries never write anyway).
Exposition parse_exposition(const std::string& page);

// Series in promtool's notation: name{a="b",...}.
std::string series_text(const Series& s);

struct References {
  std::set<std::string> metrics;                // every outflow_* name and `up`
  std::set<std::string> labels;                 // in matchers, by/without/on/ignoring lists
  std::set<std::string> counted;                // names inside rate/irate/increase
};

// The metric and label names a PromQL expression uses. Not a parser: the
// names are what matters here, and promtool parses the whole expression.
References references(const std::string& expr);

}  // namespace outflow::observability_tests
