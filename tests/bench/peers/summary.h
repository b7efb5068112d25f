#pragma once

// Pure helpers for the figures RESULTS.md shows: percentiles, medians,
// ratios against the peers, and Markdown tables.

#include <string>
#include <vector>

namespace outflow::bench {

// Nearest-rank percentile (p in [0, 100]) of an unsorted copy; 0 for none.
double percentile(std::vector<double> values, double p);
double median(std::vector<double> values);

// "3.1×" (how many times `ours` is of `theirs`), "-" when either is missing.
std::string times(double ours, double theirs);

// A Markdown table: a header row and rows of cells, all the same width.
class MarkdownTable {
 public:
  explicit MarkdownTable(std::vector<std::string> header);
  // Throws std::invalid_argument when the row has another width than the header.
  void add(std::vector<std::string> row);
  std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace outflow::bench
