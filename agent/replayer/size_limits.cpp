#include "agent/replayer/size_limits.h"

#include <fmt/format.h>

namespace outflow::agent::replayer {

std::optional<std::string> over_limit(const std::string& topic, std::int64_t bytes, const SizeLimits& limits) {
  if (const auto it = limits.topics.find(topic); it != limits.topics.end() && it->second > 0 && bytes > it->second) {
    return fmt::format("{} bytes as a record is over topic {}'s max.message.bytes of {}", bytes, topic, it->second);
  }
  if (limits.producer_max > 0 && bytes > limits.producer_max) {
    return fmt::format("{} bytes as a record is over the producer's message.max.bytes of {}", bytes,
                       limits.producer_max);
  }
  return std::nullopt;
}

std::optional<Route> smaller(const Route& route, const std::string& why, std::size_t value_bytes) {
  if (const auto* park = std::get_if<Park>(&route)) {
    if (park->dropped_value) return std::nullopt;
    return Park{fmt::format("{}; its value of {} bytes was dropped: {}", park->reason, value_bytes, why),
                value_bytes};
  }
  if (std::holds_alternative<MoveToTier>(route) || std::holds_alternative<Republish>(route)) return Park{why};
  return std::nullopt;  // NotYetDue is never sent
}

}  // namespace outflow::agent::replayer
