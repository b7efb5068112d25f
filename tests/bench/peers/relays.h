#pragma once

// The relays compared by `hack/bench.sh peers`, each started through its
// launcher script (tests/bench/peers/<name>/run.sh), which writes the relay's
// configuration and then execs it, so the child's pid is the relay itself
// (its CPU and RSS are its own; a JVM's or Node's threads included).

#include "child_process.h"

#include <memory>
#include <string>
#include <vector>

namespace outflow::bench {

struct Relay {
  std::string name;   // as --relays takes it: agent, agent-delete, agent3, poller, debezium
  std::string label;  // as RESULTS.md shows it
  bool marks_rows = false;  // it updates published_at: drained = in Kafka and marked
  std::string launcher;     // tests/bench/peers/<launcher>/run.sh
  int processes = 1;        // replicas started side by side, sharing the outbox
  std::string agent_outbox;  // the agent's: lines added to its outbox section (YAML)
};

// In the order they run within a round; `names` picks ("agent,poller").
std::vector<Relay> relays_named(const std::string& names);

// Where one run's relay reads and writes.
struct RelayTarget {
  std::string table;    // schema.outbox
  std::string topic;
  std::string workdir;  // the relay's own files (config, Connect's offsets); kept across restarts
  std::string slot;     // logical replication slot and publication name (Debezium)
};

// All of a relay's processes; CPU and RSS are their sums.
class RunningRelay {
 public:
  RunningRelay(const Relay& relay, const RelayTarget& target);
  // Stops it (SIGTERM, SIGKILL after a minute) when still running.
  ~RunningRelay();
  RunningRelay(const RunningRelay&) = delete;
  RunningRelay& operator=(const RunningRelay&) = delete;

  double cpu_seconds() const;  // whole life so far
  long peak_rss_kib() const;   // VmHWM so far
  double run_queue_wait_seconds() const;  // waiting for a core, whole life so far (threads alive now)
  bool running();  // every process still runs
  // SIGTERM and a bounded wait, so Connect commits its offsets; returns the
  // first non-zero exit code (as ChildProcess::terminate gives them).
  int stop();
  std::string log() const;

 private:
  std::vector<std::unique_ptr<testenv::ChildProcess>> processes_;
  std::vector<int> pids_;  // as started (a reaped ChildProcess forgets its pid)
};

}  // namespace outflow::bench
