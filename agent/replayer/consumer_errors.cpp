#include "agent/replayer/consumer_errors.h"

#include <algorithm>

namespace outflow::agent::replayer {

ConsumerErrorAction consumer_error_action(rd_kafka_resp_err_t error, ConsumerErrorSource source) {
  switch (error) {
    case RD_KAFKA_RESP_ERR__PARTITION_EOF: return ConsumerErrorAction::Ignore;
    case RD_KAFKA_RESP_ERR__FATAL: return ConsumerErrorAction::Replace;
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN: return ConsumerErrorAction::Tell;
    default: return source == ConsumerErrorSource::Poll ? ConsumerErrorAction::Tell : ConsumerErrorAction::Debug;
  }
}

std::int64_t ReplacementBackoff::replace_at(std::int64_t now) {
  const bool streak = last_replaced_ && now - *last_replaced_ < settings_.calm_ms;
  if (!streak) {
    wait_ = 0;
  } else {
    wait_ = wait_ == 0 ? settings_.first_wait_ms : std::min(2 * wait_, settings_.max_wait_ms);
  }
  return now + wait_;
}

}  // namespace outflow::agent::replayer
