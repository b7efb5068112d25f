#pragma once

// A real binary of ours run as a child process by a test: output to a log file
// the test prints on failure, SIGTERM with a bounded wait, SIGKILL. Plus the
// small network helpers such tests need.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace outflow::testenv {

class ChildProcess {
 public:
  // argv[0] is the binary's path. `env` adds to (or overrides) this process's environment.
  explicit ChildProcess(std::vector<std::string> argv, const std::map<std::string, std::string>& env = {});
  ~ChildProcess();  // kills a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // SIGTERM, then waits up to `timeout`; returns the exit code (-signal when
  // it was killed, -SIGKILL when it had to be).
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void kill();  // SIGKILL and reap
  // Sends `sig` to a child still running (SIGSTOP/SIGCONT to freeze and thaw it).
  void signal(int sig);
  bool running();
  std::string log() const;
  pid_t pid() const { return pid_; }  // negative once reaped

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  std::string log_path_;
};

// A TCP port on 127.0.0.1 for a child to listen on: free now, outside the
// kernel's ephemeral range, and handed to no other test process while this
// one runs.
int free_port();

// GET of http://127.0.0.1:port/path: {status, body}; status 0 when nothing listens.
std::pair<int, std::string> http_get(int port, const std::string& path);

// Polls `probe` every `every` until it returns true or `timeout` passes.
bool eventually(const std::function<bool()>& probe, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = std::chrono::milliseconds(100));

// The sum of every sample of `name` in a Prometheus text page.
double metric_value(const std::string& page, const std::string& name);

// Runs `hack/testenv.sh <action> <part>` (stop|start, kafka|postgres); throws
// when it fails.
void testenv_part(const std::string& action, const std::string& part);

// Stops a shared part of the test environment for a scope; the destructor
// starts it again, so a failing test leaves it running for the tests after.
// Only tests that run alone (the *OutageTest suites) may use it.
class PartStopped {
 public:
  explicit PartStopped(std::string part);
  ~PartStopped();
  void restart();

 private:
  std::string part_;
  bool running_ = false;
};

// Freezes the broker (SIGSTOP) for a scope: its sockets stay open and it
// answers nothing, as a hung or partitioned broker looks to a client. The
// destructor thaws it. Only for the *OutageTest suites.
class BrokerFrozen {
 public:
  BrokerFrozen();
  ~BrokerFrozen();
  void thaw();

 private:
  bool frozen_ = true;
};

}  // namespace outflow::testenv
