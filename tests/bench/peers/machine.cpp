#include "machine.h"

#include <fmt/format.h>

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

namespace outflow::bench {

namespace {

// The whole of a stat file (/proc/PID/stat, /proc/PID/task/TID/stat); ""
// when the process is gone. A backend may exit between readdir() and the
// read, and libstdc++ then throws from the read (ESRCH) instead of ending it.
std::string stat_text(const std::string& path) {
  try {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure&) {
    return "";
  }
}

// The first line of a /proc file; "" when it is gone (as stat_text).
std::string first_line(const std::string& path) {
  try {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
  } catch (const std::ios_base::failure&) {
    return "";
  }
}

// The fields after the command name of a stat file ("state ppid ...").
std::vector<std::string> stat_fields(const std::string& path) {
  const std::string text = stat_text(path);
  const auto close = text.rfind(')');
  std::vector<std::string> fields;
  if (close == std::string::npos || close + 2 > text.size()) return fields;
  std::istringstream stream(text.substr(close + 2));
  for (std::string field; stream >> field;) fields.push_back(field);
  return fields;
}

std::vector<std::string> stat_fields(int pid) { return stat_fields("/proc/" + std::to_string(pid) + "/stat"); }

// state(0) ppid(1) ... utime(11) stime(12), in clock ticks (a process's: all its threads).
double cpu_seconds(const std::vector<std::string>& f) {
  if (f.size() < 13) return 0;
  return static_cast<double>(std::stoll(f[11]) + std::stoll(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The names in a /proc directory; nothing when it is gone.
std::vector<std::string> entries_of(const std::string& path) {
  struct CloseDir {
    void operator()(DIR* d) const { closedir(d); }
  };
  std::vector<std::string> names;
  std::unique_ptr<DIR, CloseDir> dir(opendir(path.c_str()));
  if (!dir) return names;
  while (const auto* entry = readdir(dir.get())) {
    if (entry->d_name[0] != '.') names.emplace_back(entry->d_name);
  }
  return names;
}

}  // namespace

double process_cpu_seconds(int pid) { return cpu_seconds(stat_fields(pid)); }

double jit_compiler_cpu_seconds(int jvm) {
  if (jvm <= 0) return 0;
  const std::string tasks = "/proc/" + std::to_string(jvm) + "/task/";
  double total = 0;
  for (const auto& task : entries_of(tasks)) {
    if (first_line(tasks + task + "/comm").find("CompilerThre") != std::string::npos) total += cpu_seconds(stat_fields(tasks + task + "/stat"));
  }
  return total;
}

double run_queue_wait_seconds(int pid) {
  if (pid <= 0) return 0;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task/";
  double total = 0;
  for (const auto& task : entries_of(tasks)) {
    // "time on a core, time waiting for one, timeslices", in nanoseconds.
    std::istringstream fields(first_line(tasks + task + "/schedstat"));
    unsigned long long on_core = 0, waiting = 0;
    if (fields >> on_core >> waiting) total += static_cast<double>(waiting) / 1e9;
  }
  return total;
}

double cpu_pressure_seconds() {
  // "some avg10=1.00 avg60=2.00 avg300=3.00 total=123456" (microseconds)
  const auto line = first_line("/proc/pressure/cpu");
  const auto at = line.find("total=");
  if (!line.starts_with("some") || at == std::string::npos) return -1;
  return static_cast<double>(std::stoull(line.substr(at + 6))) / 1e6;
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
  for (const auto& name : entries_of("/proc")) {
    const int pid = std::atoi(name.c_str());
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

std::map<int, double> tree_cpu_by_pid(int root) {
  std::map<int, double> cpu;
  for (const int pid : tree_of(root)) cpu[pid] = process_cpu_seconds(pid);
  return cpu;
}

std::map<int, double> tree_run_queue_wait_by_pid(int root) {
  std::map<int, double> wait;
  for (const int pid : tree_of(root)) wait[pid] = run_queue_wait_seconds(pid);
  return wait;
}

long tree_pss_kib(int root) {
  long total = 0;
  for (const int pid : tree_of(root)) total += proc_kib(pid, "smaps_rollup", "Pss:");
  return total;
}

long status_number(int pid, std::string_view field) {
  return proc_kib(pid, "status", std::string(field) + ":");
}

long peak_rss_kib(int pid) { return status_number(pid, "VmHWM"); }

std::string utc_now() {
  const auto now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &tm);
  return text;
}

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

CoreSeconds core_seconds(const MachineCpu& before, const MachineCpu& after) {
  const auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const auto total = static_cast<double>(after.total - before.total) / ticks;
  return {total, total - static_cast<double>(after.busy - before.busy) / ticks};
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
