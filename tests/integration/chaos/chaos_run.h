#pragma once

// One chaos run, whatever runs the agents: the concurrent writer fills the
// outbox, each planned fault lands once the writer is the next fraction of
// the way through, then the outbox must drain and an independent consumer
// reads the whole topic for the DeliveryCheck to judge. The agents'
// processes (agent_chaos_test.cpp) and the node's pods
// (e2e/node_chaos_test.cpp) differ only in the FaultInjector they pass.

#include "agent/outbox_fixture.h"
#include "chaos/faults.h"

#include <chrono>
#include <string>
#include <vector>

namespace outflow::chaos {

struct RunPlan {
  long long rows = 24000;       // attempted rows (committed + rolled back), at least
  long long rows_per_second = 300;  // 0: as fast as PostgreSQL takes them
  int connections = 4;
  std::vector<Fault> faults;
  int replicas = 3;    // agent replicas: they set the duplicate bound
  int batch_size = 500;
  std::chrono::milliseconds agent_down{2000};  // from a replica's death to its replacement (processes)
};

// The short variant's sizes unless OUTFLOW_CHAOS_ROWS, _RATE, _CONNECTIONS,
// _BROKER_KILLS, _AGENT_KILLS and _DATABASE_RESTARTS say otherwise
// (hack/chaos.sh sets the full run's).
RunPlan plan_from_environment(int replicas, int batch_size);

// Runs `plan` against the outbox in `db` published to `topic` and records
// every broken promise as a gtest failure (and prints the figures).
void run_and_judge(const RunPlan& plan, FaultInjector& faults, testenv::OutboxDb& db, const std::string& topic);

}  // namespace outflow::chaos
