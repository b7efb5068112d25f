#pragma once

// The Kafka half of `outflow-agent check`: connects with the configured
// TLS/SASL settings and checks that every declared topic (and the
// dead-letter family) exists with its partitions, and that the configured
// principal may do on each what the agent does (access.h, access_probes.h).

#include "agent/check/checklist.h"
#include "common/kafka/client_config.h"
#include "common/pipeline/spec.h"

#include <vector>

namespace outflow::agent::check {

std::vector<Item> check_kafka(const kafka::ConnectionSettings& settings, const pipeline::PipelineSpec& spec);

}  // namespace outflow::agent::check
