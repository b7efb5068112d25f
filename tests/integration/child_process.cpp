#include "child_process.h"

#include "kube_helpers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace outflow::testenv {

using namespace std::chrono_literals;

ChildProcess::ChildProcess(std::vector<std::string> argv, const std::map<std::string, std::string>& env) {
  char path[] = "/tmp/outflow-child-log-XXXXXX";
  const int fd = mkstemp(path);
  close(fd);
  log_path_ = path;

  std::map<std::string, std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos) merged[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : env) merged[k] = v;
  std::vector<std::string> env_entries;
  for (const auto& [k, v] : merged) env_entries.push_back(k + "=" + v);

  std::vector<char*> raw_argv;
  for (auto& a : argv) raw_argv.push_back(a.data());
  raw_argv.push_back(nullptr);
  std::vector<char*> raw_env;
  for (auto& e : env_entries) raw_env.push_back(e.data());
  raw_env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_APPEND, 0);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  const int rc = posix_spawn(&pid_, raw_argv[0], &actions, nullptr, raw_argv.data(), raw_env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error(std::string("cannot start ") + raw_argv[0]);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && running()) kill();
  std::remove(log_path_.c_str());
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  const pid_t r = waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) {
    pid_ = -pid_;  // reaped; remember it was ours
    return false;
  }
  return r == 0;
}

int ChildProcess::terminate(std::chrono::milliseconds timeout) {
  if (running()) {
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    if (running()) {
      kill();
      return -SIGKILL;
    }
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : -WTERMSIG(status_);
}

void ChildProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, &status_, 0);
  pid_ = -pid_;
}

void ChildProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::string ChildProcess::log() const { return read_text(log_path_); }

namespace {

// Ports for a test's children come from below the kernel's ephemeral range
// (32768-60999 here). A port from that range that was free when picked can be
// the local end of an outgoing connection (a librdkafka reconnect, a database
// client) by the time the child binds it: a replacement agent in the chaos
// test died of exactly that, EADDRINUSE. hack/lib/common.sh hands out
// 20000-29999 for the test environment's servers, so the two never meet.
constexpr int kFirstPort = 11000;
constexpr int kLastPort = 19999;

// Test binaries run side by side (ctest -j): each port is claimed with an
// flock on a file named after it, held by this process until it exits.
class PortClaims {
 public:
  PortClaims() { ::mkdir(kDirectory, 0777); }
  ~PortClaims() {
    for (const int fd : held_) ::close(fd);
  }
  PortClaims(const PortClaims&) = delete;
  PortClaims& operator=(const PortClaims&) = delete;

  int claim() {
    std::lock_guard lock(mutex_);
    constexpr int span = kLastPort - kFirstPort + 1;
    const int start = static_cast<int>(std::random_device{}() % span);
    for (int i = 0; i < span; ++i) {
      const int port = kFirstPort + (start + i) % span;
      const std::string path = std::string(kDirectory) + "/" + std::to_string(port);
      const int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0666);
      if (fd < 0) continue;
      // A second flock on a new open file fails even within this process.
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && bindable(port)) {
        held_.push_back(fd);
        return port;
      }
      ::close(fd);
    }
    throw std::runtime_error("no free port left in 11000-19999 on 127.0.0.1");
  }

 private:
  static constexpr const char* kDirectory = "/tmp/outflow-port-claims";

  // As the child's listener will bind: with SO_REUSEADDR, so a port whose
  // last connection is in TIME_WAIT counts as free.
  static bool bindable(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  std::mutex mutex_;
  std::vector<int> held_;
};

}  // namespace

int free_port() {
  static PortClaims claims;
  return claims.claim();
}

std::pair<int, std::string> http_get(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return {0, ""};
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  (void)!write(fd, request.data(), request.size());
  std::string response;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) response.append(buffer, static_cast<std::size_t>(n));
  close(fd);
  int status = 0;
  std::sscanf(response.c_str(), "HTTP/%*s %d", &status);
  const auto body = response.find("\r\n\r\n");
  return {status, body == std::string::npos ? "" : response.substr(body + 4)};
}

bool eventually(const std::function<bool()>& probe, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (probe()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

double metric_value(const std::string& page, const std::string& name) {
  double total = 0;
  std::size_t at = 0;
  while ((at = page.find(name, at)) != std::string::npos) {
    const bool line_start = at == 0 || page[at - 1] == '\n';  // not "# HELP name ..."
    const auto line_end = page.find('\n', at);
    const auto line = page.substr(at, line_end - at);
    at = line_end;
    if (line_start && line.size() > name.size() && (line[name.size()] == ' ' || line[name.size()] == '{')) {
      total += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return total;
}

void testenv_part(const std::string& action, const std::string& part) {
  const auto command = "bash " + source_path("hack/testenv.sh") + " " + action + " " + part + " >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

PartStopped::PartStopped(std::string part) : part_(std::move(part)) { testenv_part("stop", part_); }

PartStopped::~PartStopped() {
  try {
    restart();
  } catch (...) {
  }
}

void PartStopped::restart() {
  if (!running_) testenv_part("start", part_);
  running_ = true;
}

BrokerFrozen::BrokerFrozen() { testenv_part("freeze", "kafka"); }

BrokerFrozen::~BrokerFrozen() {
  try {
    thaw();
  } catch (...) {
  }
}

void BrokerFrozen::thaw() {
  if (frozen_) testenv_part("thaw", "kafka");
  frozen_ = false;
}

}  // namespace outflow::testenv
