#pragma once

// `outflow-agent topics apply --config F [--dry-run]`: creates the declared
// topics (spec.topics and the dead-letter family) and grows their partitions
// and sets their configs, with the planner the operator uses
// (operator/topics/plan.h) and its refusals: never fewer partitions, never
// another replication factor. Every declared topic counts as the config
// owner's own: an existing one is brought to the declared layout, not
// refused as someone else's. Exit 0 done (or nothing to do), 1 the config is
// invalid or states no layout, 2 Kafka failed or refused a change.

#include <ostream>
#include <string>

namespace outflow::agent::topics {

int run_apply(const std::string& config_path, bool dry_run, std::ostream& out);

}  // namespace outflow::agent::topics
