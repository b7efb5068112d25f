#pragma once

// `outflow-agent parked list|replay|purge`: the decisions, without I/O. What a
// parked message says about itself, which messages a filter selects, the
// headers of a replayed copy, how lines and JSON look, and how far a purge
// reaches in one partition. parked_kafka.h does the reading and writing.
//
// Time filters (--since, --until, purge --before) compare with the message's
// timestamp in the parked topic, i.e. when it was parked, not with
// `outflow-failed-at`: Kafka can only delete a prefix of a partition by that
// timestamp (ListOffsets by time), so list, replay and purge must agree on
// it, or `list --until T` would show other messages than `purge --before T`
// deletes. Not every stack sets outflow-failed-at either.

#include "agent/replayer/headers.h"
#include "agent/replayer/routing.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace outflow::agent::parked {

using replayer::Header;
using replayer::Headers;

// `outflow-replayed-from: <parked topic>/<partition>/<offset>` on a replayed
// copy: where it came from, so a message that is parked again can be traced
// back, and a person can tell a repeat from a new failure.
inline constexpr std::string_view kReplayedFrom = "outflow-replayed-from";

// One message read from the parked topic.
struct ParkedMessage {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = -1;  // < 0: the broker gave none
  std::optional<std::string> key;
  std::optional<std::string> value;  // nullopt: a null value (tombstone)
  Headers headers;
};

// What the headers say, for lines and filters. A parked message may be parked
// precisely because its headers are unusable, so every field is optional
// rather than the whole parse failing.
struct ParkedInfo {
  std::optional<std::string> original_topic;  // Outflow, else Spring, else Connect header
  std::optional<std::int32_t> original_partition;
  std::optional<std::int64_t> original_offset;
  std::optional<std::string> attempt;  // as written: an unreadable one is shown, not hidden
  std::string reason;                  // outflow-parked-reason
  std::string error;                   // the stack's error text
};
ParkedInfo describe(const Headers& headers);

// Every filter at once; an empty field selects everything.
struct Filter {
  std::set<std::string> original_topics;  // any of these (the message's original topic)
  std::optional<std::int64_t> since_ms;   // timestamp >= since (inclusive)
  std::optional<std::int64_t> until_ms;   // timestamp <  until (exclusive, like purge --before)
  std::optional<std::int32_t> partition;  // only this partition of the parked topic
  std::optional<std::int64_t> from_offset;  // offset >= this, in every partition read
  bool any_message_filter() const {
    return !original_topics.empty() || since_ms || until_ms || from_offset;
  }
};
// A message without a timestamp never matches a time filter: when it was
// parked is unknown, so it is neither "since" nor "until" anything.
bool matches(const Filter& filter, const ParkedMessage& message);

// "a,b" and repeated flags -> {a, b}; empty items are ignored.
std::set<std::string> split_topics(const std::vector<std::string>& values);

// RFC 3339 -> ms since the epoch; nullopt when unreadable.
std::optional<std::int64_t> parse_time_ms(std::string_view text);
// ms since the epoch -> RFC 3339 UTC with milliseconds ("2026-11-24T00:10:00.123Z").
std::string format_time_ms(std::int64_t ms);

// The headers of the copy sent to tier 1: all of them, in order, except every
// `outflow-parked-reason` (it is not parked any more) and every
// `outflow-attempt`, replaced by one `outflow-attempt: 1` (a fresh ladder),
// plus `outflow-replayed-from`. Earlier `outflow-replayed-from` headers are
// kept: they are the message's history.
Headers replay_headers(const Headers& headers, const std::string& parked_topic, std::int32_t partition,
                       std::int64_t offset);

// Why a replayed copy would only be parked again (the replayer's own routing
// decision on the rewritten headers, from tier 1): no original-topic header,
// or a topic outside the pipeline; or why it must not be replayed at all: it
// was parked without its value (`outflow-parked-value-dropped`). nullopt: it
// would be republished.
std::optional<std::string> replay_refusal(const Headers& replayed, const replayer::RoutingRules& rules);

// One human line: partition, offset, time, original topic, attempt, key, reason.
// Bytes that are not printable ASCII in the key are escaped (\xNN), so a
// binary key cannot garble the terminal or split the line.
std::string format_line(const ParkedMessage& message);
std::string header_line();
// One JSON object (--output json); the value is given by size only: it may be
// large, binary or personal data, and list is for finding messages. Numbers
// are numbers: partition, offset, originalPartition, originalOffset, attempt
// (null when absent or unreadable; an unreadable one is also given as
// `attemptText`, as written).
nlohmann::json to_json(const ParkedMessage& message);
// Dumps without throwing on bytes that are not UTF-8 (replaced by U+FFFD).
std::string dump_line(const nlohmann::json& object);

// Escapes non-printable bytes as \xNN (and backslash as \\).
std::string printable(std::string_view bytes);

// What purge --before does to one partition: deletes [low, target), where
// target is the first offset whose timestamp is >= before (offsets_for_times),
// or the high watermark when no record is that new (found < 0).
struct PurgePlan {
  std::int32_t partition = 0;
  std::int64_t low = 0;
  std::int64_t high = 0;
  std::int64_t target = 0;  // DeleteRecords' before-offset
  std::int64_t count() const { return target > low ? target - low : 0; }
};
PurgePlan plan_purge(std::int32_t partition, std::int64_t low, std::int64_t high, std::int64_t found);

// Per partition, the offsets a replay sent: printed so the next run can start
// after them (--partition P --from-offset last+1).
struct OffsetRange {
  std::int64_t first = 0;
  std::int64_t last = 0;
  std::int64_t count = 0;
};

}  // namespace outflow::agent::parked
