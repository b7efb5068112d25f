#include "chaos/faults.h"

#include "child_process.h"
#include "kube_helpers.h"
#include "testenv.h"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace outflow::chaos {
namespace {

// Dead, or a zombie its (long gone) parent's reaper has not collected yet.
bool gone(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, comm, state;
  stat >> pid_field >> comm >> state;
  return state == "Z" || state == "X";
}

}  // namespace

const char* name(Fault fault) {
  switch (fault) {
    case Fault::Broker: return "broker SIGKILL";
    case Fault::Agent: return "agent SIGKILL";
    case Fault::Database: return "PostgreSQL restart";
  }
  return "?";
}

std::vector<Fault> fault_plan(int broker_kills, int agent_kills, int database_restarts) {
  std::vector<Fault> plan;
  while (broker_kills > 0 || agent_kills > 0 || database_restarts > 0) {
    if (broker_kills-- > 0) plan.push_back(Fault::Broker);
    if (agent_kills-- > 0) plan.push_back(Fault::Agent);
    if (database_restarts-- > 0) plan.push_back(Fault::Database);
  }
  return plan;
}

ProcessFaults::ProcessFaults(std::function<void(int)> kill_agent, std::function<void(int)> start_agent)
    : kill_agent_(std::move(kill_agent)), start_agent_(std::move(start_agent)) {}

void ProcessFaults::kill_broker(std::chrono::milliseconds down) { crash_broker(down); }

void ProcessFaults::restart_database() { chaos::restart_database(); }

void crash_broker(std::chrono::milliseconds down) {
  // hack/testenv.sh stop would ask the broker to shut down cleanly; a crash
  // is SIGKILL to the process group it runs in (as `freeze` signals it).
  const auto pid_file = testenv::require("OUTFLOW_TESTENV_DIR") + "/pids/kafka.pid";
  const auto pid_text = testenv::read_text(pid_file);
  const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
  if (pid <= 1 || ::kill(-pid, SIGKILL) != 0) throw std::runtime_error("cannot SIGKILL the broker (pid " + pid_text + ")");
  if (!testenv::eventually([&] { return gone(pid); }, std::chrono::seconds(10))) {
    throw std::runtime_error("the broker survived SIGKILL");
  }
  // As a clean stop does: `start` takes a recorded pid that still answers
  // (a zombie nobody reaped yet does) for a running broker.
  std::filesystem::remove(pid_file);
  std::this_thread::sleep_for(down);
  // Waits until it is ready. A JVM on two busy cores can take more than the
  // default minute to start: a slow start is not the fault under test.
  // Measured on a machine at load 50: a KRaft broker that timed out its own
  // controller heartbeats and never got ready in 300 s; a second start is
  // what an operator (or a pod restart) would do.
  const auto command = "KAFKA_READY_TIMEOUT=300 bash " + testenv::source_path("hack/testenv.sh") +
                       " start kafka >/dev/null 2>&1";
  for (int attempt = 1; std::system(command.c_str()) != 0; ++attempt) {
    if (attempt == 3) throw std::runtime_error("the broker did not start again, 3 tries: " + command);
  }
}

void ProcessFaults::kill_agent(int replica, std::chrono::milliseconds down) {
  kill_agent_(replica);
  std::this_thread::sleep_for(down);
  start_agent_(replica);
}

void restart_database() {
  testenv::testenv_part("stop", "postgres");
  testenv::testenv_part("start", "postgres");
}

}  // namespace outflow::chaos
