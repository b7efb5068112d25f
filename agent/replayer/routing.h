#pragma once

// What the replayer does with one message it read, decided without I/O from
// its headers, the topic it came from, its timestamp there and the time now
// (injected, so tests need neither Kafka nor a clock).
//
//   from the dead-letter topic:  attempt <= maxAttempts  -> MoveToTier(attempt)
//                                attempt >  maxAttempts  -> Park("retries used up ...")
//   from tier n:                 now <  entered + delay(n) -> NotYetDue(due)
//                                now >= entered + delay(n) -> Republish(original, n + 1)
//   either, headers unusable or the original topic not in the pipeline -> Park(reason)
//
// Republish takes the attempt from the tier, not from `outflow-attempt`: the
// tier is where the message waited for its n-th retry, so the next attempt is
// n + 1 whatever a hand-edited header says (e.g. a parked message replayed
// through tier 1 gets a fresh ladder).

#include "agent/replayer/headers.h"
#include "agent/replayer/schedule.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <variant>

namespace outflow::agent::replayer {

struct MoveToTier {
  int tier;
  bool operator==(const MoveToTier&) const = default;
};
struct Republish {
  std::string topic;
  int attempt;          // the new outflow-attempt
  std::int64_t due_ms;  // for the due-lag metric
  bool operator==(const Republish&) const = default;
};
struct Park {
  std::string reason;
  // Set: the parked copy goes without its value (the whole message is more
  // than the parked topic or the producer takes), and this is the size of the
  // value it dropped (size_limits.h).
  std::optional<std::size_t> dropped_value{};
  bool operator==(const Park&) const = default;
};
struct NotYetDue {
  std::int64_t until_ms;
  bool operator==(const NotYetDue&) const = default;
};
using Route = std::variant<MoveToTier, Republish, Park, NotYetDue>;

// Where a message was read: the dead-letter topic (tier 0) or retry tier n.
struct Source {
  int tier = 0;
  std::int64_t timestamp_ms = 0;  // the message's timestamp in that topic; < 0: unknown (due at once)
};

struct RoutingRules {
  RetrySchedule schedule;
  // The pipeline's topics (spec.topics and outbox.defaultTopic): the only ones
  // the replayer republishes to, so a forged or mistaken header cannot make the
  // agent write into someone else's topic, or into its own retry ladder.
  std::set<std::string> topics;
};

RoutingRules routing_rules(const pipeline::PipelineSpec& spec);  // spec.dead_letter must be set

Route route(const Headers& headers, const Source& source, std::int64_t now_ms, const RoutingRules& rules);

// The headers of the copy moved to a retry tier: all of them, in order,
// except an earlier `outflow-moved-from` (from an earlier trip), replaced by
// `moved_from` ("<dlq>/<partition>/<offset>", see moved_from()).
Headers tier_headers(const Headers& headers, const std::string& moved_from);
std::string moved_from(const std::string& topic, std::int32_t partition, std::int64_t offset);

// Which partition of a tier with `tier_partitions` partitions a dead letter
// from dead-letter partition `source_partition` goes to: every dead letter of
// one dead-letter partition to one tier partition, in order, so a repeated
// move lands beside the first (move_dedup.h). The operator creates the tiers
// with the dead-letter topic's partition count, which makes it one to one.
std::int32_t tier_partition(std::int32_t source_partition, std::int32_t tier_partitions);

// The headers of the copy sent back to the original topic: all of them, in
// order, except every `outflow-attempt`, which is replaced by one with
// `attempt`, and `outflow-moved-from`, which only means something in a tier.
Headers republish_headers(const Headers& headers, int attempt);

// The headers of the parked copy: all of them plus `outflow-parked-reason`
// (replacing an earlier one, so a parked message replayed and parked again
// says why this time) and, for a copy without its value,
// `outflow-parked-value-dropped` with the size of the value it dropped.
Headers parked_headers(const Headers& headers, const Park& park);

}  // namespace outflow::agent::replayer
