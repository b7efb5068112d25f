#pragma once

// Pure: the operator bench's part of RESULTS.md. Its figures, the targets
// judged on them and, for a missed target, what the run's own measures show
// bounds it.

#include "bench/peers/targets.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace outflow::bench {

// The operator process's resident memory at one moment.
struct OperatorMemory {
  long rss_kib = 0;
  long anon_kib = 0;  // its own: heap, stacks
  long file_kib = 0;  // mapped files, mostly the shared libraries' code
  int threads = 0;
};

struct OperatorRun {
  std::string command, started_utc, machine, versions;
  std::string load_before, load_ready, load_after;
  int pipelines = 0, topics_per_pipeline = 0, namespaces = 0, workers = 0;

  // 1. Every pipeline applied at once to a running operator.
  OperatorMemory before_pipelines;  // running and ready, no pipeline yet
  double applied_s = 0;             // until the bench's last create returned
  double topics_s = 0;              // until the broker had every topic
  double ready_s = 0;               // until every pipeline reported TopicsReady
  double idle_s = 0;                // until queue empty and no write for 5 s
  double startup_cpu_s = 0;         // the operator's CPU from its start until idle
  long peak_start_kib = 0;
  OperatorMemory steady;            // idle, everything ready
  double steady_writes = 0, steady_reconciles = 0;  // in 10 s of steady state

  // 2. A restart with nothing changed: the new process's full resync.
  double restart_readyz_s = 0;
  double restart_full_pass_s = 0;  // until every pipeline was reconciled once
  double restart_writes = 0;
  std::map<std::string, double> restart_admin_calls;  // by call
  double restart_cpu_s = 0;

  // 3. Another restart, one spec change made at once: behind the full resync.
  double depth_at_change = 0;
  double change_s = 0;
  long peak_restart_kib = 0;
};

int topics(const OperatorRun& run);

// A figure quoted for a well-known Kafka topic operator (a JVM): its memory
// in MB at a number of topics.
struct QuotedMemory {
  int topics = 0;
  double mb = 0;
};
const std::vector<QuotedMemory>& topic_operator_quoted();
// The quoted figure to hold a run of `topics` against: the one at the most
// topics not above it; none below the smallest quoted size.
std::optional<QuotedMemory> quoted_for(int topics);
// kB more per topic between the smallest and the largest quoted figure.
double quoted_growth_kb_per_topic();

std::vector<TargetVerdict> judge_operator(const OperatorRun& run);
std::string render_operator_results(const OperatorRun& run);

}  // namespace outflow::bench
