#include "delivery_tally.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace outflow::bench {

namespace {
constexpr std::string_view kPrefix = "00000000-0000-4000-8000-";
constexpr std::size_t kDigits = 12;
}  // namespace

std::string event_id_for(std::int64_t index) { return fmt::format("{}{:012}", kPrefix, index); }

std::optional<std::int64_t> index_of_event_id(std::string_view event_id) {
  if (event_id.size() != kPrefix.size() + kDigits || event_id.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  const auto digits = event_id.substr(kPrefix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  std::int64_t index = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), index);
  return index;
}

DeliveryTally::DeliveryTally(std::size_t expected) : first_append_ms_(expected, -1) {}

void DeliveryTally::record(std::optional<std::string_view> event_id, std::int64_t append_ms) {
  const auto index = event_id ? index_of_event_id(*event_id) : std::nullopt;
  if (!index) {
    ++unidentified_;
    return;
  }
  if (static_cast<std::size_t>(*index) >= expected()) {
    ++warm_up_;
    return;
  }
  auto& first = first_append_ms_[static_cast<std::size_t>(*index)];
  if (first >= 0) {
    ++duplicates_;
    return;
  }
  first = append_ms;
  ++delivered_;
  earliest_ms_ = earliest_ms_ < 0 ? append_ms : std::min(earliest_ms_, append_ms);
  latest_ms_ = std::max(latest_ms_, append_ms);
}

}  // namespace outflow::bench
