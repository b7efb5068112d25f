#include "integration/chaos/delivery_check.h"

#include "agent/publisher/drain_window.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace outflow::chaos {
namespace {

constexpr std::size_t kExamples = 10;

// "c<connection>:<sequence>" -> {connection, sequence}; nullopt for anything else.
std::optional<std::pair<std::size_t, std::size_t>> parse_payload(std::string_view value) {
  if (value.size() < 4 || value.front() != 'c') return std::nullopt;
  const auto colon = value.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::size_t connection = 0, sequence = 0;
  const auto* begin = value.data();
  auto [c_end, c_err] = std::from_chars(begin + 1, begin + colon, connection);
  auto [s_end, s_err] = std::from_chars(begin + colon + 1, begin + value.size(), sequence);
  if (c_err != std::errc() || c_end != begin + colon || s_err != std::errc() || s_end != begin + value.size()) {
    return std::nullopt;
  }
  return std::pair{connection, sequence};
}

}  // namespace

std::array<char, 36> event_id_of(std::string_view text) {
  std::array<char, 36> id{};
  std::copy_n(text.begin(), std::min(text.size(), id.size()), id.begin());
  return id;
}

std::string payload_of(int connection, std::int64_t sequence) { return fmt::format("c{}:{}", connection, sequence); }

DeliveryCheck::DeliveryCheck(std::vector<std::vector<WrittenRow>> rows) : rows_(std::move(rows)) {
  seen_.reserve(rows_.size());
  for (const auto& connection : rows_) {
    seen_.emplace_back(connection.size(), 0);
    for (const auto& row : connection) {
      if (row.outcome == Outcome::Committed) ++committed_;
      if (row.outcome == Outcome::RolledBack) ++rolled_back_;
    }
  }
}

void DeliveryCheck::problem(std::size_t& counter, std::string text) {
  ++counter;
  if (v_.examples.size() < kExamples) v_.examples.push_back(std::move(text));
}

void DeliveryCheck::see(const std::optional<std::string>& key, std::string_view value,
                        const std::optional<std::string>& event_id_header) {
  ++v_.messages;
  const auto at = parse_payload(value);
  if (!at || at->first >= rows_.size() || at->second >= rows_[at->first].size()) {
    problem(v_.unknown, fmt::format("a message nobody wrote: \"{}\"", value.substr(0, 40)));
    return;
  }
  const auto [connection, sequence] = *at;
  const auto& row = rows_[connection][sequence];
  if (row.outcome != Outcome::Committed) {
    problem(v_.rolled_back_seen, fmt::format("row {} was never committed but reached Kafka", value));
    return;
  }
  auto& count = seen_[connection][sequence];
  if (count < UINT16_MAX) ++count;
  if (count > 1) {
    ++v_.duplicates;
    return;
  }
  ++delivered_;
  if (!event_id_header || event_id_of(*event_id_header) != row.event_id) {
    problem(v_.wrong_event_id, fmt::format("row {}: header event id \"{}\", PostgreSQL gave \"{}\"", value,
                                           event_id_header.value_or("(none)"),
                                           std::string_view(row.event_id.data(), row.event_id.size())));
  }
  if (row.shared_key) return;
  const auto& name = key.value_or("");
  const auto [last, inserted] = last_first_delivery_.try_emplace(name, static_cast<std::int64_t>(sequence));
  if (inserted) return;
  if (last->second > static_cast<std::int64_t>(sequence)) {
    problem(v_.order_violations, fmt::format("key {}: row {} first arrived after row c{}:{}", name, value,
                                             connection, last->second));
    return;
  }
  last->second = static_cast<std::int64_t>(sequence);
}

Verdict DeliveryCheck::verdict() const {
  Verdict v = v_;
  v.committed = committed_;
  v.rolled_back = rolled_back_;
  v.delivered = delivered_;
  v.lost = committed_ - delivered_;
  for (std::size_t c = 0; c < rows_.size() && v.examples.size() < kExamples + 3; ++c) {
    for (std::size_t s = 0; s < rows_[c].size() && v.examples.size() < kExamples + 3; ++s) {
      if (rows_[c][s].outcome == Outcome::Committed && seen_[c][s] == 0) {
        v.examples.push_back(fmt::format("lost: committed row {} never reached Kafka", payload_of(int(c), int(s))));
      }
    }
  }
  return v;
}

std::size_t duplicate_bound(int batch_size, int replicas, int faults) {
  const auto unmarked_batches = agent::publisher::DrainSettings{}.max_batches + 1;
  return static_cast<std::size_t>(batch_size) * unmarked_batches * static_cast<std::size_t>(replicas) *
         static_cast<std::size_t>(faults);
}

}  // namespace outflow::chaos
