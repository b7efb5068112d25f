#pragma once

// One measured run of one relay, each against an outbox table and a topic of
// its own: the drain of a preloaded backlog, or the latency at a fixed rate.
// Both start the relay once on the empty outbox first (it connects; Debezium
// creates its slot and offsets) and see a row through, so every relay is
// measured as a relay that was already set up.

#include "outbox_writer.h"
#include "machine.h"
#include "relays.h"

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace outflow::bench {

// What the other processes of a run cost; the same for every relay.
struct Costs {
  double relay_cpu_s = 0;    // the relay process over the measured span
  long relay_peak_rss_kib = 0;  // VmHWM over the relay process's life
  double postgres_cpu_s = 0;  // postmaster + backends, same span
  double broker_cpu_s = 0;
  // Largest PSS seen while the relay ran (sampled every 250 ms), KiB.
  long postgres_peak_pss_kib = 0;  // postmaster + backends
  long broker_peak_pss_kib = 0;
  std::string load;  // /proc/loadavg at the end of the span
  double machine_busy = 0;  // share of all cores busy over the span, 0..1
  // The same from the first row's append to the last's (drains only); -1: unknown.
  double machine_busy_streaming = -1;
  // Record batches the broker appended to the run's topic over the span
  // (broker_log.h); -1 when unknown.
  long record_batches = -1;
  // A profile of the span: where the machine's CPU went.
  CoreSeconds cores;                 // all cores over the span, and how much of it idle
  double broker_compiler_cpu_s = 0;  // of broker_cpu_s, the JVM's JIT compiler threads
  double bench_cpu_s = 0;            // this process: the checker reading the topic, the samplers
  // PostgreSQL's processes by application_name (the agent's "outflow-agent"
  // claims, "outflow-agent-marks", ...) or, for the server's own, their type.
  std::map<std::string, double> postgres_sessions_cpu_s;
  // Waiting for a core over the span: seconds the relay's threads, the
  // database server's processes and the broker's threads were runnable but
  // not running (their run delay), and seconds in which any task on the
  // machine was (-1: unknown). A machine busy 75 % on average can still
  // make every stage of a latency path wait its turn in bursts.
  double relay_wait_s = 0;
  double postgres_wait_s = 0;
  double broker_wait_s = 0;
  double cpu_pressure_s = -1;
  double span_s = 0;  // wall-clock seconds of the span
};

struct Deliveries {
  std::size_t lost = 0;
  std::size_t duplicates = 0;
  std::size_t unidentified = 0;  // messages without our event id header
};

struct DrainRun {
  double seconds = 0;             // relay started -> every row in Kafka (and marked, for pollers)
  double first_append_s = 0;      // relay started -> first row appended
  double streaming_rate = 0;      // rows/s between the first and the last append
  Costs costs;
  Deliveries deliveries;
};

struct LatencyRun {
  std::vector<double> ms;  // commit returned -> broker append, per delivered row
  double achieved_rate = 0;
  Costs costs;
  Deliveries deliveries;
};

struct RunSettings {
  RowShape shape;
  int partitions = 12;
};

DrainRun drain(const Relay& relay, std::int64_t rows, const RunSettings& settings);
LatencyRun latency(const Relay& relay, int rate, int seconds, const RunSettings& settings);

}  // namespace outflow::bench
