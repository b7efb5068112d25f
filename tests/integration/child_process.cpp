#include "child_process.h"

#include "kube_helpers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
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

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
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
