#include "common/time_format.h"

#include <cctype>
#include <ctime>

namespace outflow {

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  const std::string s(text);
  std::tm tm{};
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  if (*rest == '.') {
    ++rest;
    if (!std::isdigit(static_cast<unsigned char>(*rest))) return std::nullopt;
    while (std::isdigit(static_cast<unsigned char>(*rest))) ++rest;
  }
  std::int64_t offset = 0;
  if (*rest == 'Z' || *rest == 'z') {
    ++rest;
  } else if (*rest == '+' || *rest == '-') {
    // Exactly "+hh:mm" / "-hh:mm": checked character by character, so a short
    // offset ("+2:00", "+02:0") is rejected instead of read past the end.
    const auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
    for (int i = 1; i <= 5; ++i) {
      if (i == 3 ? rest[i] != ':' : !digit(rest[i])) return std::nullopt;
    }
    const int sign = *rest == '-' ? -1 : 1;
    const int hours = (rest[1] - '0') * 10 + (rest[2] - '0');
    const int minutes = (rest[4] - '0') * 10 + (rest[5] - '0');
    offset = sign * (hours * 3600 + minutes * 60);
    rest += 6;
  } else {
    return std::nullopt;
  }
  if (*rest != '\0') return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm)) - offset;
}

std::string format_rfc3339(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  const auto length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(text, length);
}

}  // namespace outflow
