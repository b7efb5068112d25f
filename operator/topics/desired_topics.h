#pragma once

// Which Kafka topics a pipeline needs. The dead-letter block expands into a
// ladder of topics the agent uses to retry failed messages; the operator must
// create exactly the names the agent will produce to, so both use these helpers.

#include "common/pipeline/spec.h"

#include <string>
#include <vector>

namespace outflow::op::topics {

// "<dlq>.retry.<attempt>": where a message waits before its attempt-th retry
// (attempt counts from 1).
std::string retry_tier_topic(const std::string& dead_letter_topic, int attempt);

// "<dlq>.parked": where a message ends up once its retries are exhausted.
std::string parked_topic(const std::string& dead_letter_topic);

// The spec's topics in spec order, then, when deadLetter is set, the dead-letter
// topic, its retry tiers 1..maxAttempts and the parked topic, all with
// deadLetter's partitions, replication factor and config.
std::vector<pipeline::TopicSpec> desired_topics(const pipeline::PipelineSpec& spec);

}  // namespace outflow::op::topics
