#pragma once

// What the chaos suite does to the running system, behind one interface so
// the same run can use processes (ProcessFaults, here) or pods on the test
// environment's node (e2e/pod_faults.h: `kubectl delete pod --force` for an
// agent, the broker and PostgreSQL as they are, the same crash either way).

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace outflow::chaos {

enum class Fault { Broker, Agent, Database };
const char* name(Fault fault);

// counts of each fault, interleaved so that no two of a kind run back to
// back while others remain (b a d b a b ...): every kind meets the
// aftermath of every other.
std::vector<Fault> fault_plan(int broker_kills, int agent_kills, int database_restarts);

class FaultInjector {
 public:
  virtual ~FaultInjector() = default;
  // The broker SIGKILLed (no clean shutdown, unflushed state lost), down for
  // `down`, started again and ready.
  virtual void kill_broker(std::chrono::milliseconds down) = 0;
  // Agent replica `replica` SIGKILLed, then a new one started in its place
  // after `down` (what a Deployment does after a pod is force-deleted).
  virtual void kill_agent(int replica, std::chrono::milliseconds down) = 0;
  // PostgreSQL stopped (every session dropped) and started again.
  virtual void restart_database() = 0;
  // What `fault` does here, for the run's log.
  virtual std::string describe(Fault fault) const { return name(fault); }
};

// The broker's process SIGKILLed, down for `down`, started again and ready.
void crash_broker(std::chrono::milliseconds down);
// PostgreSQL stopped and started by hack/testenv.sh.
void restart_database();

// Processes of the local test environment: the broker by its pid file and
// hack/testenv.sh start, PostgreSQL by hack/testenv.sh stop/start, agents by
// the callbacks of the test that runs them.
class ProcessFaults : public FaultInjector {
 public:
  ProcessFaults(std::function<void(int)> kill_agent, std::function<void(int)> start_agent);
  void kill_broker(std::chrono::milliseconds down) override;
  void kill_agent(int replica, std::chrono::milliseconds down) override;
  void restart_database() override;

 private:
  std::function<void(int)> kill_agent_;
  std::function<void(int)> start_agent_;
};

}  // namespace outflow::chaos
