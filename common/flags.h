#pragma once

// Parsers for command-line values shared by both binaries. Each returns nullopt
// for text it cannot accept, so callers can name the flag in their error.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace outflow::flags {

// Kubernetes/Go-style durations: "1500ms", "30s", "10m", "1h", "1h30m".
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

struct ListenAddress {
  std::string host;  // empty: all interfaces
  int port = 0;
};

// "host:port", ":port" or "[v6]:port"; port 0..65535 (0 lets the OS choose).
std::optional<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace outflow::flags
