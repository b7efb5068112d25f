#pragma once

// The names of the topics a deadLetter block implies. The operator creates
// them and the agent reads and writes them, so both take the names from here:
// two spellings would silently use a topic nobody created.

#include <string>

namespace outflow::pipeline {

// "<dlq>.retry.<tier>": where a message waits before its tier-th retry
// (tiers count from 1, one per attempt up to maxAttempts).
std::string retry_tier_topic(const std::string& dead_letter_topic, int tier);

// "<dlq>.parked": where a message ends up once its retries are used up, or
// when it cannot be replayed at all.
std::string parked_topic(const std::string& dead_letter_topic);

}  // namespace outflow::pipeline
