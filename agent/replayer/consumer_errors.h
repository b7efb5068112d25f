#pragma once

// Pure: what the replayer does about an error its consumer reports. Errors
// come two ways: as an error message from rd_kafka_consumer_poll (partition
// errors, and, for a group consumer, a fatal error) and through the error
// callback (connection trouble, which librdkafka retries by itself).
//
//   the end of a partition            -> nothing
//   fatal (fenced: another member     -> a new consumer: this one reads
//   joined under its instance id)        nothing more, ever
//   from poll, anything else          -> told (the replayer's last error)
//   every broker down                 -> told
//   from the callback, anything else  -> logged at debug

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <optional>

namespace outflow::agent::replayer {

enum class ConsumerErrorSource { Poll, Callback };

enum class ConsumerErrorAction {
  Ignore,
  Debug,    // logged at debug: librdkafka retries by itself
  Tell,     // shown as the replayer's last error and logged
  Replace,  // the consumer failed for good: told, and a new one takes its place
};

ConsumerErrorAction consumer_error_action(rd_kafka_resp_err_t error, ConsumerErrorSource source);

// When to replace a consumer that failed for good. A fence after an outage is
// a one-off: the first replacement comes at once. A new consumer fenced again
// soon after it took over means another process joins under the same
// group.instance.id (two agents given the same instance id): each
// replacement would fence the other within a heartbeat, for ever. So a
// failure within `calm` of the last replacement doubles the wait, from
// `first_wait` up to `max_wait`, and a replacement that lasted `calm` ends
// the streak. Times are the replayer's clock, in ms.
struct ReplacementBackoffSettings {
  std::int64_t calm_ms = 60'000;
  std::int64_t first_wait_ms = 1'000;
  std::int64_t max_wait_ms = 300'000;
};

class ReplacementBackoff {
 public:
  explicit ReplacementBackoff(ReplacementBackoffSettings settings = {}) : settings_(settings) {}
  // The consumer failed at `now`: when to replace it.
  std::int64_t replace_at(std::int64_t now);
  // It was replaced at `now`.
  void replaced(std::int64_t now) { last_replaced_ = now; }
  // The wait the last replace_at() chose; 0: at once.
  std::int64_t wait_ms() const { return wait_; }

 private:
  ReplacementBackoffSettings settings_;
  std::optional<std::int64_t> last_replaced_;
  std::int64_t wait_ = 0;
};

}  // namespace outflow::agent::replayer
