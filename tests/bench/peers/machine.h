#pragma once

// What the processes of a run cost, read from /proc: CPU seconds of a process
// (all its threads) or a process tree, peak RSS, memory of a process tree, and
// how busy the machine was.

#include <map>
#include <string>
#include <string_view>

namespace outflow::bench {

double process_cpu_seconds(int pid);
// CPU seconds of the threads of `jvm` that run its JIT compiler ("C1
// CompilerThre", "C2 CompilerThre"): how much of a JVM's CPU went to
// compiling its own code rather than doing its work.
double jit_compiler_cpu_seconds(int jvm);
// `root` and its direct children alive now (PostgreSQL's backends are the
// postmaster's children; backends that exited in between are missed, which
// is why every relay keeps its sessions open while it runs).
double tree_cpu_seconds(int root);
// The same per process: pid -> CPU seconds of its whole life.
std::map<int, double> tree_cpu_by_pid(int root);
// Proportional set size (smaps_rollup Pss) of `root` and its direct children
// alive now, KiB: PostgreSQL's shared buffers counted once across its
// backends, not once per backend as their RSS would.
long tree_pss_kib(int root);
// Seconds the threads of `pid` alive now have spent runnable but waiting
// for a core, over their lives (the scheduler's run delay, schedstat).
double run_queue_wait_seconds(int pid);
// The same per process of `root` and its direct children: pid -> seconds.
std::map<int, double> tree_run_queue_wait_by_pid(int root);
// Seconds in which at least one task on the machine was waiting for a core
// since boot (/proc/pressure/cpu, "some"); -1 without that file.
double cpu_pressure_seconds();
// The number a field of /proc/PID/status starts with ("VmHWM" and "RssAnon"
// in KiB, "Threads" a count); 0 when the process is gone.
long status_number(int pid, std::string_view field);
// VmHWM of a running process, KiB; 0 when it is gone.
long peak_rss_kib(int pid);
int parent_of(int pid);

// CPU time of the whole machine, all cores, from /proc/stat (clock ticks).
struct MachineCpu {
  unsigned long long busy = 0;   // everything but idle and iowait
  unsigned long long total = 0;
};
MachineCpu machine_cpu();
// All cores' seconds between two readings, and how many of them were idle.
struct CoreSeconds {
  double total = 0;
  double idle = 0;
};
CoreSeconds core_seconds(const MachineCpu& before, const MachineCpu& after);
// The share of all cores busy between two readings, 0..1.
double busy_share(const MachineCpu& before, const MachineCpu& after);

// "2026-12-07 17:45 UTC": when a run started, as RESULTS.md says it.
std::string utc_now();
// "1.52 1.40 1.71" from /proc/loadavg.
std::string load_average();
// "Intel(R) Xeon(R) ..., 2 cores, 23.5 GiB memory".
std::string machine_description();

// The broker's process: the pid file the test environment wrote; -1 if none.
int broker_pid();

}  // namespace outflow::bench
