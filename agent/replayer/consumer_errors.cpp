#include "agent/replayer/consumer_errors.h"

namespace outflow::agent::replayer {

ConsumerErrorAction consumer_error_action(rd_kafka_resp_err_t error, ConsumerErrorSource source) {
  switch (error) {
    case RD_KAFKA_RESP_ERR__PARTITION_EOF: return ConsumerErrorAction::Ignore;
    case RD_KAFKA_RESP_ERR__FATAL: return ConsumerErrorAction::Replace;
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN: return ConsumerErrorAction::Tell;
    default: return source == ConsumerErrorSource::Poll ? ConsumerErrorAction::Tell : ConsumerErrorAction::Debug;
  }
}

}  // namespace outflow::agent::replayer
