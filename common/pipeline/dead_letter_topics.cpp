#include "common/pipeline/dead_letter_topics.h"

namespace outflow::pipeline {

std::string retry_tier_topic(const std::string& dead_letter_topic, int tier) {
  return dead_letter_topic + ".retry." + std::to_string(tier);
}

std::string parked_topic(const std::string& dead_letter_topic) { return dead_letter_topic + ".parked"; }

}  // namespace outflow::pipeline
