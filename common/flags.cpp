#include "common/flags.h"

#include <charconv>
#include <chrono>

namespace outflow::flags {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::chrono::milliseconds total{0};
  while (!text.empty()) {
    long long amount = 0;
    const auto [rest, ec] = std::from_chars(text.data(), text.data() + text.size(), amount);
    if (ec != std::errc() || amount < 0 || rest == text.data()) return std::nullopt;
    text.remove_prefix(static_cast<size_t>(rest - text.data()));
    long long unit_ms = 0;
    if (text.starts_with("ms")) {
      unit_ms = 1;
      text.remove_prefix(2);
    } else if (text.starts_with("s")) {
      unit_ms = 1000;
      text.remove_prefix(1);
    } else if (text.starts_with("m")) {
      unit_ms = 60'000;
      text.remove_prefix(1);
    } else if (text.starts_with("h")) {
      unit_ms = 3'600'000;
      text.remove_prefix(1);
    } else {
      return std::nullopt;  // a unit is required: "30" is ambiguous
    }
    // A duration no clock can add to is a typo, not a setting: refuse it
    // rather than wrap around to a negative or tiny value. Anything under
    // ~100 years fits comfortably into every time point it is added to.
    constexpr long long kMaxMs = 100LL * 365 * 24 * 3'600'000;
    if (amount > kMaxMs / unit_ms || total.count() > kMaxMs - amount * unit_ms) return std::nullopt;
    total += std::chrono::milliseconds(amount * unit_ms);
  }
  return total;
}

std::optional<ListenAddress> parse_listen_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.starts_with('[')) {
    if (!host.ends_with(']')) return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // a bare IPv6 address needs brackets
  }
  int port = -1;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return std::nullopt;
  }
  return ListenAddress{std::string(host), port};
}

}  // namespace outflow::flags
