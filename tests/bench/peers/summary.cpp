#include "summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace outflow::bench {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

double median(std::vector<double> values) { return percentile(std::move(values), 50); }

std::string times(double ours, double theirs) {
  if (!(ours > 0) || !(theirs > 0)) return "-";
  const double ratio = ours / theirs;
  return ratio >= 10 ? fmt::format("{:.0f}×", ratio) : fmt::format("{:.1f}×", ratio);
}

MarkdownTable::MarkdownTable(std::vector<std::string> header) : header_(std::move(header)) {}

void MarkdownTable::add(std::vector<std::string> row) {
  if (row.size() != header_.size()) {
    throw std::invalid_argument(fmt::format("a table row has {} cells, the header {}", row.size(), header_.size()));
  }
  rows_.push_back(std::move(row));
}

std::string MarkdownTable::render() const {
  auto line = [](const std::vector<std::string>& cells) {
    std::string text = "|";
    for (const auto& cell : cells) text += " " + cell + " |";
    return text + "\n";
  };
  std::string text = line(header_);
  text += line(std::vector<std::string>(header_.size(), "---"));
  for (const auto& row : rows_) text += line(row);
  return text;
}

}  // namespace outflow::bench
