#include "machine.h"

#include <fmt/format.h>

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

namespace outflow::bench {

namespace {

// The whole of /proc/PID/stat; "" when the process is gone. A backend may
// exit between readdir() and the read, and libstdc++ then throws from the
// read (ESRCH) instead of ending it.
std::string stat_text(int pid) {
  try {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure&) {
    return "";
  }
}

// The fields after the command name of /proc/PID/stat ("state ppid ...").
std::vector<std::string> stat_fields(int pid) {
  const std::string text = stat_text(pid);
  const auto close = text.rfind(')');
  std::vector<std::string> fields;
  if (close == std::string::npos || close + 2 > text.size()) return fields;
  std::istringstream stream(text.substr(close + 2));
  for (std::string field; stream >> field;) fields.push_back(field);
  return fields;
}

}  // namespace

double process_cpu_seconds(int pid) {
  const auto f = stat_fields(pid);
  // state(0) ppid(1) ... utime(11) stime(12), in clock ticks, all threads.
  if (f.size() < 13) return 0;
  return static_cast<double>(std::stoll(f[11]) + std::stoll(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int parent_of(int pid) {
  const auto f = stat_fields(pid);
  return f.size() < 2 ? -1 : std::atoi(f[1].c_str());
}

namespace {

// `root` and its direct children alive now; nothing when root <= 0.
std::vector<int> tree_of(int root) {
  if (root <= 0) return {};
  std::vector<int> pids{root};
  struct CloseDir {
    void operator()(DIR* d) const { closedir(d); }
  };
  std::unique_ptr<DIR, CloseDir> proc(opendir("/proc"));
  if (!proc) return pids;
  while (const auto* entry = readdir(proc.get())) {
    const int pid = std::atoi(entry->d_name);
    if (pid > 0 && parent_of(pid) == root) pids.push_back(pid);
  }
  return pids;
}

// The kB figure of the line starting with `field` ("VmHWM:") in
// /proc/PID/`file`; 0 when the process is gone.
long proc_kib(int pid, const char* file, std::string_view field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(field)) return std::stol(line.substr(field.size()));
  }
  return 0;
}

}  // namespace

double tree_cpu_seconds(int root) {
  double total = 0;
  for (const int pid : tree_of(root)) total += process_cpu_seconds(pid);
  return total;
}

long tree_pss_kib(int root) {
  long total = 0;
  for (const int pid : tree_of(root)) total += proc_kib(pid, "smaps_rollup", "Pss:");
  return total;
}

long peak_rss_kib(int pid) { return proc_kib(pid, "status", "VmHWM:"); }

MachineCpu machine_cpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  MachineCpu m;
  m.busy = user + nice + system + irq + softirq + steal;
  m.total = m.busy + idle + iowait;
  return m;
}

double busy_share(const MachineCpu& before, const MachineCpu& after) {
  const auto total = after.total - before.total;
  return total == 0 ? 0.0 : static_cast<double>(after.busy - before.busy) / static_cast<double>(total);
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

std::string machine_description() {
  std::string model = "unknown CPU";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  double mem_gib = 0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    if (line.rfind("MemTotal:", 0) == 0) {
      mem_gib = std::stod(line.substr(9)) / (1024.0 * 1024.0);
      break;
    }
  }
  return fmt::format("{}, {} cores, {:.1f} GiB memory", model, std::thread::hardware_concurrency(), mem_gib);
}

int broker_pid() {
  const char* dir = std::getenv("OUTFLOW_TESTENV_DIR");
  if (dir == nullptr) return -1;
  std::ifstream in(std::string(dir) + "/pids/kafka.pid");
  int pid = -1;
  in >> pid;
  return pid;
}

}  // namespace outflow::bench
