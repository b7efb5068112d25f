#pragma once

// What a dead letter says about itself. Applications that follow Outflow's
// contract add `outflow-*` headers; applications on Spring Kafka
// (DeadLetterPublishingRecoverer) and Kafka Connect (errors.deadletterqueue.*
// with context headers enabled) already add their own, and teams on those
// stacks should need no change, so all three are read. Pure: no I/O.
//
//   Outflow                     Spring Kafka                      Kafka Connect
//   outflow-original-topic      kafka_dlt-original-topic          __connect.errors.topic
//   outflow-original-partition  kafka_dlt-original-partition (1)  __connect.errors.partition
//   outflow-original-offset     kafka_dlt-original-offset (2)     __connect.errors.offset
//   outflow-error               kafka_dlt-exception-message       __connect.errors.exception.message
//                               (else kafka_dlt-exception-fqcn)   (else __connect.errors.exception.class.name)
//   outflow-attempt (absent = 1: the first delivery failed; read whatever the stack)
//   outflow-failed-at (ms since epoch; Outflow only)
//
// (1) a 4-byte big-endian int and (2) an 8-byte big-endian long: Spring writes
// them with ByteBuffer.putInt/putLong. Connect writes every number as decimal
// text, as does Outflow's contract. Decimal text is accepted for Spring too
// (hand-rolled recoverers do that); the two never look alike for real
// partitions and offsets, whose binary form starts with a zero byte.
//
// A header may occur more than once: a message that failed again carries the
// headers of its earlier trip plus the new ones. The last occurrence wins,
// as with Kafka's Headers.lastHeader().

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace outflow::agent::replayer {

// One Kafka header; nullopt is a header with a null value.
struct Header {
  std::string name;
  std::optional<std::string> value;
  bool operator==(const Header&) const = default;
};
// In the order the message carries them.
using Headers = std::vector<Header>;

namespace header {
inline constexpr std::string_view kOriginalTopic = "outflow-original-topic";
inline constexpr std::string_view kOriginalPartition = "outflow-original-partition";
inline constexpr std::string_view kOriginalOffset = "outflow-original-offset";
inline constexpr std::string_view kError = "outflow-error";
inline constexpr std::string_view kAttempt = "outflow-attempt";
inline constexpr std::string_view kFailedAt = "outflow-failed-at";
inline constexpr std::string_view kParkedReason = "outflow-parked-reason";
// On a parked copy without its value: the size in bytes of the value dropped.
inline constexpr std::string_view kParkedValueDropped = "outflow-parked-value-dropped";
// On a tier copy: `<dlq>/<partition>/<offset>` it was moved from, so a second
// move of the same dead letter (after a crash) is recognised (move_dedup.h).
inline constexpr std::string_view kMovedFrom = "outflow-moved-from";

inline constexpr std::string_view kSpringTopic = "kafka_dlt-original-topic";
inline constexpr std::string_view kSpringPartition = "kafka_dlt-original-partition";
inline constexpr std::string_view kSpringOffset = "kafka_dlt-original-offset";
inline constexpr std::string_view kSpringExceptionMessage = "kafka_dlt-exception-message";
inline constexpr std::string_view kSpringExceptionClass = "kafka_dlt-exception-fqcn";

inline constexpr std::string_view kConnectTopic = "__connect.errors.topic";
inline constexpr std::string_view kConnectPartition = "__connect.errors.partition";
inline constexpr std::string_view kConnectOffset = "__connect.errors.offset";
inline constexpr std::string_view kConnectExceptionMessage = "__connect.errors.exception.message";
inline constexpr std::string_view kConnectExceptionClass = "__connect.errors.exception.class.name";
}  // namespace header

// The last non-null value of header `name`, if any.
std::optional<std::string> last_value(const Headers& headers, std::string_view name);

// Which stack wrote the headers the replayer went by.
enum class HeaderStyle { Outflow, Spring, Connect };
std::string_view to_string(HeaderStyle style);

struct DeadLetter {
  std::string original_topic;
  // Where the message was when it failed; for logs and the parked CLI only,
  // so a missing or unreadable value is no reason to park.
  std::optional<std::int32_t> original_partition;
  std::optional<std::int64_t> original_offset;
  std::string error;  // empty when the stack gave none
  int attempt = 1;    // the attempt that failed, >= 1
  std::optional<std::int64_t> failed_at_ms;
  HeaderStyle style = HeaderStyle::Outflow;
  bool operator==(const DeadLetter&) const = default;
};

// Why a message cannot be replayed, written into `outflow-parked-reason`.
struct Unusable {
  std::string reason;
  bool operator==(const Unusable&) const = default;
};

// Reads the headers of a message taken from the dead-letter topic or a retry
// tier. Unusable when no original topic is named, or `outflow-attempt` is not
// a positive integer (the replayer cannot tell how many retries are left).
std::variant<DeadLetter, Unusable> parse_dead_letter(const Headers& headers);

// Decimal text ("42", no sign, no spaces) or, when `binary_size` is 4 or 8
// and the value has exactly that many bytes, a big-endian integer.
std::optional<std::int64_t> parse_number(std::string_view value, std::size_t binary_size = 0);

}  // namespace outflow::agent::replayer
