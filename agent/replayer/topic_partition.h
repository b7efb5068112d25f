#pragma once

// One partition of one topic, as the replayer's bookkeeping names it.

#include <compare>
#include <cstdint>
#include <string>

namespace outflow::agent::replayer {

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

}  // namespace outflow::agent::replayer
