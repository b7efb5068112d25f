#pragma once

// The independent consumer of the chaos suite: not the agent's code, a plain
// read_committed consumer that reads every partition of a topic from the
// beginning up to the end it finds when it starts, and hands each message to
// the DeliveryCheck in partition offset order.

#include "chaos/delivery_check.h"

#include <chrono>
#include <string>

namespace outflow::chaos {

struct ReadSummary {
  std::size_t messages = 0;
  bool reached_end = false;  // every partition read to its end offset
  double seconds = 0;
};

// Throws std::runtime_error when the topic's metadata or offsets cannot be read.
ReadSummary read_everything(const std::string& topic, DeliveryCheck& check, std::chrono::milliseconds timeout);

}  // namespace outflow::chaos
