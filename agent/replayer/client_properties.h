#pragma once

// Pure: the librdkafka properties of the replayer's consumer and producer,
// beyond the connection's own.

#include "agent/replayer/replayer.h"
#include "common/kafka/client_config.h"

#include <vector>

namespace outflow::agent::replayer {

// The consumer in the pipeline's replayer group (settings.group_id must be set):
// manual commits, earliest for a new group, round-robin assignment, and,
// with settings.instance_id, static membership under that id.
std::vector<kafka::Property> consumer_properties(const ReplayerSettings& settings);

// The shared producer settings (kafka::producer_properties) plus the
// replayer's own.
std::vector<kafka::Property> producer_properties(const ReplayerSettings& settings);

}  // namespace outflow::agent::replayer
