#pragma once

// RESULTS.md of `hack/bench.sh peers`: what ran where, then a table per
// measure with the agent's figures as multiples of each peer's.

#include "runs.h"

#include <map>
#include <string>
#include <vector>

namespace outflow::bench {

struct RelayResults {
  Relay relay;
  std::vector<DrainRun> drains;        // one per round
  std::map<int, LatencyRun> latency;   // by rate
};

struct RunDescription {
  std::string command;
  std::string started_utc;
  std::string machine;
  std::string versions;     // one line per component
  std::string load_before;  // /proc/loadavg when the run started
  std::string load_after;
  std::int64_t rows = 0;
  int rounds = 0;
  int seconds = 0;
  std::vector<int> rates;
  RunSettings settings;
  std::string warm_up;  // what the unmeasured drain before the rounds did; "" if none
};

std::string render_results(const RunDescription& run, const std::vector<RelayResults>& results);

// Rows that never reached Kafka, or messages without the event id header, in any run.
bool any_loss(const std::vector<RelayResults>& results);

}  // namespace outflow::bench
