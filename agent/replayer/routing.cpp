#include "agent/replayer/routing.h"

#include <fmt/format.h>

#include <stdexcept>

namespace outflow::agent::replayer {

RoutingRules routing_rules(const pipeline::PipelineSpec& spec) {
  if (!spec.dead_letter) throw std::invalid_argument("the pipeline has no deadLetter block");
  RoutingRules rules{RetrySchedule(*spec.dead_letter), {}};
  for (const auto& t : spec.topics) rules.topics.insert(t.name);
  if (!spec.outbox.default_topic.empty()) rules.topics.insert(spec.outbox.default_topic);
  return rules;
}

Route route(const Headers& headers, const Source& source, std::int64_t now_ms, const RoutingRules& rules) {
  auto parsed = parse_dead_letter(headers);
  if (const auto* unusable = std::get_if<Unusable>(&parsed)) return Park{unusable->reason};
  const auto& letter = std::get<DeadLetter>(parsed);
  if (!rules.topics.contains(letter.original_topic)) {
    return Park{fmt::format("original topic {} is not part of the pipeline", letter.original_topic)};
  }

  if (source.tier == 0) {
    if (const auto tier = rules.schedule.tier_for_attempt(letter.attempt)) return MoveToTier{*tier};
    return Park{fmt::format("retries used up: attempt {} failed and deadLetter.maxAttempts is {}", letter.attempt,
                            rules.schedule.max_attempts())};
  }

  if (source.tier > rules.schedule.max_attempts()) {
    // Only reachable if someone subscribes the replayer to a tier above
    // maxAttempts; better parked than a delay() out of range.
    return Park{fmt::format("retry tier {} is above deadLetter.maxAttempts {}", source.tier,
                            rules.schedule.max_attempts())};
  }
  const auto entered = source.timestamp_ms < 0 ? now_ms - rules.schedule.delay(source.tier).count()
                                               : source.timestamp_ms;
  const auto due = rules.schedule.due_ms(source.tier, entered);
  if (now_ms < due) return NotYetDue{due};
  return Republish{letter.original_topic, source.tier + 1, due};
}

Headers tier_headers(const Headers& headers, const std::string& moved_from) {
  Headers out;
  out.reserve(headers.size() + 1);
  for (const auto& h : headers) {
    if (h.name != header::kMovedFrom) out.push_back(h);
  }
  out.push_back({std::string(header::kMovedFrom), moved_from});
  return out;
}

std::string moved_from(const std::string& topic, std::int32_t partition, std::int64_t offset) {
  return fmt::format("{}/{}/{}", topic, partition, offset);
}

std::int32_t tier_partition(std::int32_t source_partition, std::int32_t tier_partitions) {
  if (tier_partitions < 1 || source_partition < 0) return 0;
  return source_partition % tier_partitions;
}

Headers republish_headers(const Headers& headers, int attempt) {
  Headers out;
  out.reserve(headers.size() + 1);
  for (const auto& h : headers) {
    if (h.name != header::kAttempt && h.name != header::kMovedFrom) out.push_back(h);
  }
  out.push_back({std::string(header::kAttempt), std::to_string(attempt)});
  return out;
}

Headers parked_headers(const Headers& headers, const Park& park) {
  Headers out;
  out.reserve(headers.size() + 2);
  for (const auto& h : headers) {
    if (h.name != header::kParkedReason && h.name != header::kParkedValueDropped) out.push_back(h);
  }
  out.push_back({std::string(header::kParkedReason), park.reason});
  if (park.dropped_value) out.push_back({std::string(header::kParkedValueDropped), std::to_string(*park.dropped_value)});
  return out;
}

}  // namespace outflow::agent::replayer
