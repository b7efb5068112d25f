#include "chaos/delivery_reader.h"

#include "agent/publisher/row_check.h"

#include <optional>

namespace outflow::chaos {

testenv::TopicRead read_everything(const std::string& topic, DeliveryCheck& check, std::chrono::milliseconds timeout) {
  return testenv::read_topic_each(topic, std::nullopt, timeout, [&](const testenv::Consumed& message) {
    const auto id = message.headers.find(agent::publisher::kEventIdHeader);
    check.see(message.key, message.value, id == message.headers.end() ? std::nullopt : id->second);
  });
}

}  // namespace outflow::chaos
