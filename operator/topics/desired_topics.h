#pragma once

// Which Kafka topics a pipeline needs. The dead-letter block expands into a
// ladder of topics the agent uses to retry failed messages; the operator must
// create exactly the names the agent will produce to, so both use these helpers.

#include "common/pipeline/dead_letter_topics.h"
#include "common/pipeline/spec.h"

#include <string>
#include <vector>

namespace outflow::op::topics {

using pipeline::parked_topic;
using pipeline::retry_tier_topic;

// The spec's topics in spec order, then, when deadLetter is set, the dead-letter
// topic, its retry tiers 1..maxAttempts and the parked topic, all with
// deadLetter's partitions, replication factor and config.
std::vector<pipeline::TopicSpec> desired_topics(const pipeline::PipelineSpec& spec);

}  // namespace outflow::op::topics
