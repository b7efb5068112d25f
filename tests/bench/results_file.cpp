#include "results_file.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace outflow::bench {

namespace {

constexpr std::string_view kMarkerStart = "<!-- part: ";
constexpr std::string_view kMarkerEnd = " -->";

std::string marker(const std::string& part) {
  return std::string(kMarkerStart) + part + std::string(kMarkerEnd) + "\n";
}

// The name a marker line carries; empty when the line is not a marker.
std::string part_of_line(std::string_view line) {
  if (line.substr(0, kMarkerStart.size()) != kMarkerStart) return {};
  line.remove_prefix(kMarkerStart.size());
  if (line.size() <= kMarkerEnd.size() || line.substr(line.size() - kMarkerEnd.size()) != kMarkerEnd) return {};
  return std::string(line.substr(0, line.size() - kMarkerEnd.size()));
}

struct Part {
  std::string name;  // empty: what stands before the first part
  std::string text;  // without its marker line
};

std::vector<Part> split(const std::string& document) {
  std::vector<Part> parts{{}};
  std::istringstream lines(document);
  for (std::string line; std::getline(lines, line);) {
    if (auto name = part_of_line(line); !name.empty()) {
      parts.push_back({std::move(name), {}});
    } else {
      parts.back().text += line + "\n";
    }
  }
  return parts;
}

std::string ending_in_newline(std::string text) {
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text;
}

}  // namespace

std::string with_part(const std::string& document, const std::string& part, const std::string& text) {
  auto parts = split(document);
  bool replaced = false;
  for (auto& p : parts) {
    if (p.name == part) {
      p.text = ending_in_newline(text);
      replaced = true;
    }
  }
  if (!replaced) {
    // A blank line between parts keeps Markdown from joining them.
    auto& last = parts.back().text;
    if (!last.empty() && last.substr(last.size() - std::min<std::size_t>(last.size(), 2)) != "\n\n") last += "\n";
    parts.push_back({part, ending_in_newline(text)});
  }
  std::string out;
  for (const auto& p : parts) {
    if (!p.name.empty()) out += marker(p.name);
    out += p.text;
  }
  return out;
}

void write_part(const std::string& path, const std::string& part, const std::string& text) {
  std::string document;
  if (std::ifstream in(path); in) {
    std::ostringstream read;
    read << in.rdbuf();
    document = read.str();
  }
  std::ofstream out(path, std::ios::trunc);
  out << with_part(document, part, text);
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace outflow::bench
