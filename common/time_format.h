#pragma once

// Kubernetes timestamps (metav1.Time): RFC 3339 in UTC with second precision,
// "2026-11-23T10:15:00Z". Wall-clock time, for what the API server stores and
// people read; intervals the code acts on use the monotonic Clock instead.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace outflow {

// Seconds since the Unix epoch; nullopt for text that is not RFC 3339
// ("Z" or a numeric offset; fractional seconds are accepted and dropped).
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

std::string format_rfc3339(std::chrono::system_clock::time_point time);

}  // namespace outflow
