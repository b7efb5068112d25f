#pragma once

// Pure: PostgreSQL array literals for statement parameters, so a whole batch
// of ids (and reasons) travels in one parameter of one statement.

#include <cstdint>
#include <string>
#include <vector>

namespace outflow::pg {

std::string array_literal(const std::vector<std::int64_t>& values);
std::string array_literal(const std::vector<int>& values);
// Each element double-quoted with `"` and `\` escaped, so commas, braces,
// quotes and the word NULL arrive as plain text.
std::string array_literal(const std::vector<std::string>& values);

}  // namespace outflow::pg
