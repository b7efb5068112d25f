#pragma once

// Pure: the targets the peers benchmark holds the agent to, judged on one
// run's figures. A missed target says what bounds it, from that run's own
// measures: how busy the machine's cores were, what PostgreSQL spent marking
// rows, and how many record batches the broker appended per row.

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace outflow::bench {

struct DrainShare {
  double rate = 0;          // rows/s, median of the rounds
  double machine_busy = 0;  // share of all cores busy while the rows streamed, 0..1
  // The median round's profile: all cores' seconds over its span, what
  // PostgreSQL took of them, and of that what marking rows published took.
  double cores_s = 0;
  double postgres_cpu_s = 0;
  double marks_cpu_s = 0;
};

struct RateFigures {
  double p99_ms = 0;
  double postgres_cpu_s = 0;
  double broker_cpu_s = 0;
  double batches_per_1000 = -1;  // -1: unknown
  double machine_busy = 0;
  // Share of the run in which any task on the machine waited for a core
  // (-1: unknown), and the seconds the relay's, PostgreSQL's and the
  // broker's threads waited between them, per row.
  double waiting_share = -1;
  double path_wait_ms_per_row = 0;
};

struct TargetFigures {
  std::optional<DrainShare> agent, three_replicas, poller, debezium;
  std::optional<DrainShare> agent_deleting;  // the agent with deleteAfterPublish: true
  std::optional<double> agent_drain_rss_mib;  // the largest of the rounds
  std::vector<std::pair<int, double>> agent_latency_rss_mib;  // by rate, rising
  std::optional<RateFigures> agent_at_2000, poller_at_2000, agent_at_10000;
};

struct TargetVerdict {
  std::string target;
  std::string measured;  // "" when this run did not measure it
  bool met = false;
  std::string bound;  // for a missed target: what this run shows bounds it
};

std::vector<TargetVerdict> judge_targets(const TargetFigures& figures);
std::string render_targets(const std::vector<TargetVerdict>& verdicts);

}  // namespace outflow::bench
