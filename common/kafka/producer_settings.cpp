#include "common/kafka/producer_settings.h"

#include <string>

namespace outflow::kafka {

std::vector<Property> producer_properties(const ConnectionSettings& settings) {
  auto properties = client_properties(settings);
  const std::vector<Property> producer = {
      {"enable.idempotence", "true"},
      {"partitioner", "murmur2_random"},
      {"linger.ms", "5"},
      // Only the operator creates topics: a producer must never bring back a
      // deleted topic, unowned and with the broker's defaults.
      {"allow.auto.create.topics", "false"},
      {"message.timeout.ms", std::to_string(settings.request_timeout_ms)},
      {"request.timeout.ms", std::to_string(settings.request_timeout_ms)},
  };
  properties.insert(properties.end(), producer.begin(), producer.end());
  return properties;
}

bool is_permanent_for_message(rd_kafka_resp_err_t error) {
  switch (error) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return true;
    default:
      return false;
  }
}

}  // namespace outflow::kafka
