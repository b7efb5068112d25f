#include "relays.h"

#include "kube_helpers.h"
#include "testenv.h"

#include "machine.h"

#include <sstream>
#include <stdexcept>

namespace outflow::bench {

std::vector<Relay> relays_named(const std::string& names) {
  const std::vector<Relay> all = {
      {"agent", "outflow-agent", true, "agent", 1, ""},
      // The same agent deleting each row once Kafka has it instead of marking
      // it published: what the marks cost the drain.
      {"agent-delete", "outflow-agent, deleteAfterPublish", true, "agent", 1, "  deleteAfterPublish: true"},
      // How far more replicas take one outbox: they split its buckets.
      {"agent3", "outflow-agent, 3 replicas", true, "agent", 3, ""},
      {"poller", "hand-written poller (baseline)", true, "poller", 1, ""},
      {"debezium", "Debezium (baseline)", false, "debezium", 1, ""},
  };
  std::vector<Relay> picked;
  std::istringstream list(names);
  for (std::string name; std::getline(list, name, ',');) {
    bool found = false;
    for (const auto& relay : all) {
      if (relay.name == name) {
        picked.push_back(relay);
        found = true;
      }
    }
    if (!found) {
      throw std::invalid_argument("unknown relay \"" + name + "\" (known: agent, agent-delete, agent3, poller, debezium)");
    }
  }
  if (picked.empty()) throw std::invalid_argument("--relays names none");
  return picked;
}

namespace {

std::map<std::string, std::string> relay_environment(const Relay& relay, const RelayTarget& target) {
  const auto optional = [](const char* name) {
    const char* value = std::getenv(name);
    return std::string(value ? value : "");
  };
  return {
      {"PEER_TABLE", target.table},
      {"PEER_TOPIC", target.topic},
      {"PEER_WORKDIR", target.workdir},
      {"PEER_SLOT", target.slot},
      {"PEER_PG_URL", testenv::require("OUTFLOW_TEST_PG_URL")},
      {"PEER_KAFKA", testenv::require("OUTFLOW_TEST_KAFKA_PLAINTEXT")},
      {"PEER_PORT", std::to_string(testenv::free_port())},
      {"PEER_PORT2", std::to_string(testenv::free_port())},
      // Set by hack/bench.sh: the agent under test and the baselines' cache.
      {"PEER_AGENT_BIN", optional("OUTFLOW_AGENT_BIN")},
      {"PEER_CACHE", optional("OUTFLOW_BENCH_PEERS_CACHE")},
      {"PEER_AGENT_OUTBOX", relay.agent_outbox},
  };
}

}  // namespace

RunningRelay::RunningRelay(const Relay& relay, const RelayTarget& target) {
  for (int i = 0; i < relay.processes; ++i) {
    // Each with ports of its own; the same table, topic and work folder.
    processes_.push_back(std::make_unique<testenv::ChildProcess>(
        std::vector<std::string>{testenv::source_path("tests/bench/peers/" + relay.launcher + "/run.sh")},
        relay_environment(relay, target)));
    pids_.push_back(processes_.back()->pid());
  }
}

RunningRelay::~RunningRelay() {
  try {
    stop();
  } catch (...) {
  }
}

double RunningRelay::cpu_seconds() const {
  double total = 0;
  for (const int pid : pids_) total += process_cpu_seconds(pid);
  return total;
}

long RunningRelay::peak_rss_kib() const {
  long total = 0;
  for (const int pid : pids_) total += bench::peak_rss_kib(pid);
  return total;
}

double RunningRelay::run_queue_wait_seconds() const {
  double total = 0;
  for (const int pid : pids_) total += bench::run_queue_wait_seconds(pid);
  return total;
}

bool RunningRelay::running() {
  for (auto& p : processes_) {
    if (!p->running()) return false;
  }
  return true;
}

int RunningRelay::stop() {
  int first = 0;
  for (auto& p : processes_) {
    const int code = p->running() ? p->terminate(std::chrono::seconds(60)) : 0;
    if (first == 0) first = code;
  }
  return first;
}

std::string RunningRelay::log() const {
  std::string text;
  for (const auto& p : processes_) text += p->log();
  return text;
}

}  // namespace outflow::bench
