#pragma once

#include <spdlog/common.h>

#include <optional>
#include <string_view>

namespace outflow::log {

enum class Format { Text, Json };

// Parsers for the --log-format / --log-level flags; nullopt names an invalid value.
std::optional<Format> parse_format(std::string_view text);
std::optional<spdlog::level::level_enum> parse_level(std::string_view text);

// Installs the process-wide default logger (stderr) for one binary.
void configure(std::string_view component, Format format, spdlog::level::level_enum level);

}  // namespace outflow::log
