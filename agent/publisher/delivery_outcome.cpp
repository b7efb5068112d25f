#include "agent/publisher/delivery_outcome.h"

#include "common/kafka/producer_settings.h"

#include <fmt/format.h>

namespace outflow::agent::publisher {

Outcome delivery_outcome(rd_kafka_resp_err_t error, std::int64_t offset, std::int64_t now_ms) {
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR && offset >= 0) return Delivered{now_ms};
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Failed{"acknowledged only implicitly, without an offset (a later batch of its partition was taken); "
                  "sent again"};
  }
  if (kafka::is_permanent_for_message(error)) {
    return Refused{fmt::format("the broker refused it: {}", rd_kafka_err2str(error)), true};
  }
  if (error == RD_KAFKA_RESP_ERR__FATAL || error == RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE) {
    return Refused{fmt::format("the producer stopped for good ({}); sent again with a new one",
                               rd_kafka_err2str(error)),
                   false};
  }
  return Failed{rd_kafka_err2str(error)};
}

Outcome enqueue_outcome(rd_kafka_resp_err_t error, std::int64_t message_max_bytes) {
  if (error == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
    return Poison{fmt::format("the client refused it: larger than the producer's message.max.bytes ({})",
                              message_max_bytes)};
  }
  return Failed{rd_kafka_err2str(error)};
}

BreakerVerdict breaker_verdict(const Outcome& outcome) {
  if (std::holds_alternative<Delivered>(outcome)) return BreakerVerdict::Success;
  if (std::holds_alternative<Failed>(outcome)) return BreakerVerdict::Failure;
  return BreakerVerdict::None;
}

}  // namespace outflow::agent::publisher
