#include "agent/postgres/array_literal.h"

namespace outflow::pg {
namespace {

template <typename Number>
std::string numbers(const std::vector<Number>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

}  // namespace

std::string array_literal(const std::vector<std::int64_t>& values) { return numbers(values); }
std::string array_literal(const std::vector<int>& values) { return numbers(values); }

std::string array_literal(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (const char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace outflow::pg
