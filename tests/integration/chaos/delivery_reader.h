#pragma once

// The chaos suite's independent consumer: testenv::read_topic_each (a plain
// read_committed consumer, not the agent's code) reading every partition of a
// topic from the beginning up to the end it finds when it starts, handing each
// message to the DeliveryCheck in partition offset order.

#include "agent/outbox_fixture.h"
#include "chaos/delivery_check.h"

#include <chrono>
#include <string>

namespace outflow::chaos {

// `complete`: every partition was read to its end offset. Throws
// std::runtime_error when the topic's metadata or offsets cannot be read.
testenv::TopicRead read_everything(const std::string& topic, DeliveryCheck& check, std::chrono::milliseconds timeout);

}  // namespace outflow::chaos
