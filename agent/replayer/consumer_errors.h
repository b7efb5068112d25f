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

namespace outflow::agent::replayer {

enum class ConsumerErrorSource { Poll, Callback };

enum class ConsumerErrorAction {
  Ignore,
  Debug,    // logged at debug: librdkafka retries by itself
  Tell,     // shown as the replayer's last error and logged
  Replace,  // the consumer failed for good: told, and a new one takes its place
};

ConsumerErrorAction consumer_error_action(rd_kafka_resp_err_t error, ConsumerErrorSource source);

}  // namespace outflow::agent::replayer
