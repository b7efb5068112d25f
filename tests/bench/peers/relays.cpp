#include "relays.h"

#include "kube_helpers.h"
#include "testenv.h"

#include "machine.h"

#include <sstream>
#include <stdexcept>

namespace outflow::bench {

std::vector<Relay> relays_named(const std::string& names) {
  const std::vector<Relay> all = {
      {"agent", "outflow-agent", true},
      {"poller", "hand-written poller (baseline)", true},
      {"debezium", "Debezium (baseline)", false},
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
    if (!found) throw std::invalid_argument("unknown relay \"" + name + "\" (known: agent, poller, debezium)");
  }
  if (picked.empty()) throw std::invalid_argument("--relays names none");
  return picked;
}

namespace {

std::map<std::string, std::string> relay_environment(const RelayTarget& target) {
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
  };
}

}  // namespace

RunningRelay::RunningRelay(const Relay& relay, const RelayTarget& target)
    : process_(std::make_unique<testenv::ChildProcess>(
          std::vector<std::string>{testenv::source_path("tests/bench/peers/" + relay.name + "/run.sh")},
          relay_environment(target))),
      pid_(process_->pid()) {}

RunningRelay::~RunningRelay() {
  try {
    stop();
  } catch (...) {
  }
}

double RunningRelay::cpu_seconds() const { return process_cpu_seconds(pid_); }
long RunningRelay::peak_rss_kib() const { return bench::peak_rss_kib(pid_); }
bool RunningRelay::running() { return process_->running(); }
int RunningRelay::stop() { return process_->running() ? process_->terminate(std::chrono::seconds(60)) : 0; }

}  // namespace outflow::bench
