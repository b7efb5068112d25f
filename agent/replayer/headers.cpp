#include "agent/replayer/headers.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>

namespace outflow::agent::replayer {
namespace {

std::optional<std::int64_t> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_big_endian(std::string_view bytes) {
  std::uint64_t value = 0;
  for (const char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
  if (bytes.size() == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(value));
  return static_cast<std::int64_t>(value);
}

// The names one stack uses for each field.
struct Names {
  HeaderStyle style;
  std::string_view topic, partition, offset, message, exception_class;
  // Spring writes numbers in binary; the others as text.
  bool binary_numbers;
};

constexpr Names kStacks[] = {
    {HeaderStyle::Outflow, header::kOriginalTopic, header::kOriginalPartition, header::kOriginalOffset,
     header::kError, {}, false},
    {HeaderStyle::Spring, header::kSpringTopic, header::kSpringPartition, header::kSpringOffset,
     header::kSpringExceptionMessage, header::kSpringExceptionClass, true},
    {HeaderStyle::Connect, header::kConnectTopic, header::kConnectPartition, header::kConnectOffset,
     header::kConnectExceptionMessage, header::kConnectExceptionClass, false},
};

}  // namespace

std::optional<std::string> last_value(const Headers& headers, std::string_view name) {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->name == name && it->value) return it->value;
  }
  return std::nullopt;
}

std::string_view to_string(HeaderStyle style) {
  switch (style) {
    case HeaderStyle::Outflow: return "outflow";
    case HeaderStyle::Spring: return "spring";
    case HeaderStyle::Connect: return "connect";
  }
  return "unknown";
}

std::optional<std::int64_t> parse_number(std::string_view value, std::size_t binary_size) {
  if (auto decimal = parse_decimal(value)) return decimal;
  if (binary_size != 0 && value.size() == binary_size && (binary_size == 4 || binary_size == 8)) {
    return parse_big_endian(value);
  }
  return std::nullopt;
}

std::variant<DeadLetter, Unusable> parse_dead_letter(const Headers& headers) {
  // Outflow's own headers first: a Spring or Connect message the replayer
  // already republished and that failed again may carry both, and ours are the
  // ones the application was told to set.
  const Names* names = nullptr;
  std::optional<std::string> topic;
  for (const auto& candidate : kStacks) {
    topic = last_value(headers, candidate.topic);
    if (topic && !topic->empty()) {
      names = &candidate;
      break;
    }
  }
  if (names == nullptr) {
    return Unusable{fmt::format("no original-topic header ({}, {} or {})", header::kOriginalTopic,
                                header::kSpringTopic, header::kConnectTopic)};
  }

  DeadLetter d;
  d.style = names->style;
  d.original_topic = *topic;
  if (const auto p = last_value(headers, names->partition)) {
    const auto n = parse_number(*p, names->binary_numbers ? 4 : 0);
    if (n && *n >= 0 && *n <= std::numeric_limits<std::int32_t>::max()) {
      d.original_partition = static_cast<std::int32_t>(*n);
    }
  }
  if (const auto o = last_value(headers, names->offset)) {
    const auto n = parse_number(*o, names->binary_numbers ? 8 : 0);
    if (n && *n >= 0) d.original_offset = *n;
  }
  if (auto m = last_value(headers, names->message); m && !m->empty()) {
    d.error = std::move(*m);
  } else if (!names->exception_class.empty()) {
    d.error = last_value(headers, names->exception_class).value_or("");
  }
  if (const auto f = last_value(headers, header::kFailedAt)) d.failed_at_ms = parse_number(*f);

  if (const auto a = last_value(headers, header::kAttempt)) {
    const auto n = parse_number(*a);
    if (!n || *n < 1 || *n > std::numeric_limits<int>::max()) {
      return Unusable{fmt::format("{} header \"{}\" is not a positive integer", header::kAttempt,
                                  a->size() > 40 ? a->substr(0, 40) + "..." : *a)};
    }
    d.attempt = static_cast<int>(*n);
  }
  return d;
}

}  // namespace outflow::agent::replayer
