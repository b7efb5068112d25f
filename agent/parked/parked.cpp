#include "agent/parked/parked.h"

#include "common/time_format.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <variant>

namespace outflow::agent::parked {

namespace h = replayer::header;

ParkedInfo describe(const Headers& headers) {
  ParkedInfo info;
  const auto parsed = replayer::parse_dead_letter(headers);
  if (const auto* d = std::get_if<replayer::DeadLetter>(&parsed)) {
    info.original_topic = d->original_topic;
    info.original_partition = d->original_partition;
    info.original_offset = d->original_offset;
    info.error = d->error;
  } else {
    // Unusable (e.g. an attempt header that is not a number) but it may still
    // name its topic, which is what a person filters by.
    for (const auto name : {h::kOriginalTopic, h::kSpringTopic, h::kConnectTopic}) {
      if (auto t = replayer::last_value(headers, name); t && !t->empty()) {
        info.original_topic = std::move(t);
        break;
      }
    }
    info.error = replayer::last_value(headers, h::kError).value_or("");
  }
  info.attempt = replayer::last_value(headers, h::kAttempt);
  info.reason = replayer::last_value(headers, h::kParkedReason).value_or("");
  return info;
}

bool matches(const Filter& filter, const ParkedMessage& message) {
  if (filter.partition && message.partition != *filter.partition) return false;
  if (filter.from_offset && message.offset < *filter.from_offset) return false;
  if (filter.since_ms || filter.until_ms) {
    if (message.timestamp_ms < 0) return false;
    if (filter.since_ms && message.timestamp_ms < *filter.since_ms) return false;
    if (filter.until_ms && message.timestamp_ms >= *filter.until_ms) return false;
  }
  if (!filter.original_topics.empty()) {
    const auto topic = describe(message.headers).original_topic;
    if (!topic || !filter.original_topics.contains(*topic)) return false;
  }
  return true;
}

std::set<std::string> split_topics(const std::vector<std::string>& values) {
  std::set<std::string> out;
  for (const auto& value : values) {
    std::size_t start = 0;
    while (start <= value.size()) {
      const auto comma = value.find(',', start);
      const auto end = comma == std::string::npos ? value.size() : comma;
      if (end > start) out.insert(value.substr(start, end - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

std::optional<std::int64_t> parse_time_ms(std::string_view text) {
  const auto seconds = parse_rfc3339(text);
  if (!seconds) return std::nullopt;
  // parse_rfc3339 drops fractions; keep milliseconds, since Kafka timestamps
  // have them and "--since 10:00:00.500" should mean what it says.
  std::int64_t millis = 0;
  if (const auto dot = text.find('.'); dot != std::string_view::npos) {
    int scale = 100;
    for (auto i = dot + 1; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, scale /= 10) {
      if (scale > 0) millis += (text[i] - '0') * scale;
    }
  }
  return *seconds * 1000 + millis;
}

std::string format_time_ms(std::int64_t ms) {
  const auto floor_seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const auto millis = ms - floor_seconds * 1000;
  auto text = format_rfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(floor_seconds)));
  // "...:SSZ" -> "...:SS.mmmZ"
  text.insert(text.size() - 1, fmt::format(".{:03}", millis));
  return text;
}

Headers replay_headers(const Headers& headers, const std::string& parked_topic, std::int32_t partition,
                       std::int64_t offset) {
  Headers out;
  out.reserve(headers.size() + 2);
  for (const auto& header : headers) {
    // outflow-moved-from names an earlier tier copy: a replayed copy is a new
    // dead letter, not a repeat of that one (move_dedup.h).
    if (header.name == h::kParkedReason || header.name == h::kAttempt || header.name == h::kMovedFrom) continue;
    out.push_back(header);
  }
  out.push_back({std::string(h::kAttempt), "1"});
  out.push_back({std::string(kReplayedFrom), fmt::format("{}/{}/{}", parked_topic, partition, offset)});
  return out;
}

std::optional<std::string> replay_refusal(const Headers& replayed, const replayer::RoutingRules& rules) {
  // A copy parked without its value (too big for the parked topic): replayed,
  // the application would get an empty message in its place.
  if (const auto dropped = replayer::last_value(replayed, replayer::header::kParkedValueDropped)) {
    return fmt::format("parked without its value ({} bytes dropped, see outflow-parked-reason); replaying it "
                       "would send an empty message",
                       *dropped);
  }
  // Ask the replayer's own routing what it will do with the copy in tier 1
  // (timestamp unknown = due at once): anything but Republish means the copy
  // would go straight back to the parked topic, a pointless loop.
  const auto decision = replayer::route(replayed, replayer::Source{1, -1}, 0, rules);
  if (const auto* park = std::get_if<replayer::Park>(&decision)) return park->reason;
  if (std::holds_alternative<replayer::Republish>(decision)) return std::nullopt;
  return std::string("the replayer would not republish it from tier 1");
}

std::string printable(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (u < 0x20 || u >= 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

std::string header_line() {
  return "PARTITION\tOFFSET\tPARKED-AT\tORIGINAL-TOPIC\tATTEMPT\tKEY\tREASON";
}

std::string format_line(const ParkedMessage& message) {
  const auto info = describe(message.headers);
  return fmt::format("{}\t{}\t{}\t{}\t{}\t{}\t{}", message.partition, message.offset,
                     message.timestamp_ms < 0 ? "-" : format_time_ms(message.timestamp_ms),
                     info.original_topic ? printable(*info.original_topic) : "-",
                     info.attempt ? printable(*info.attempt) : "-", message.key ? printable(*message.key) : "-",
                     info.reason.empty() ? "-" : printable(info.reason));
}

nlohmann::json to_json(const ParkedMessage& message) {
  const auto info = describe(message.headers);
  nlohmann::json j = {{"partition", message.partition}, {"offset", message.offset}};
  j["timestamp"] = message.timestamp_ms < 0 ? nlohmann::json(nullptr) : nlohmann::json(format_time_ms(message.timestamp_ms));
  j["timestampMs"] = message.timestamp_ms < 0 ? nlohmann::json(nullptr) : nlohmann::json(message.timestamp_ms);
  j["originalTopic"] = info.original_topic ? nlohmann::json(*info.original_topic) : nlohmann::json(nullptr);
  j["originalPartition"] = info.original_partition ? nlohmann::json(*info.original_partition) : nlohmann::json(nullptr);
  j["originalOffset"] = info.original_offset ? nlohmann::json(*info.original_offset) : nlohmann::json(nullptr);
  const auto attempt = info.attempt ? replayer::parse_number(*info.attempt) : std::nullopt;
  j["attempt"] = attempt ? nlohmann::json(*attempt) : nlohmann::json(nullptr);
  if (info.attempt && !attempt) j["attemptText"] = *info.attempt;
  j["reason"] = info.reason;
  j["error"] = info.error;
  j["key"] = message.key ? nlohmann::json(*message.key) : nlohmann::json(nullptr);
  j["valueBytes"] = message.value ? nlohmann::json(message.value->size()) : nlohmann::json(nullptr);
  if (auto from = replayer::last_value(message.headers, kReplayedFrom)) j["replayedFrom"] = *from;
  return j;
}

std::string dump_line(const nlohmann::json& object) {
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

PurgePlan plan_purge(std::int32_t partition, std::int64_t low, std::int64_t high, std::int64_t found) {
  PurgePlan plan{partition, low, high, found < 0 ? high : found};
  // A found offset below the low watermark (already deleted) or above the
  // high one (a race with new records) is clamped: DeleteRecords refuses
  // offsets past the end, and below low there is nothing to delete.
  if (plan.target > high) plan.target = high;
  if (plan.target < low) plan.target = low;
  return plan;
}

}  // namespace outflow::agent::parked
