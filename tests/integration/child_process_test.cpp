// The ports tests hand their agents and operators: a port a child cannot
// bind is a test that fails for a reason that has nothing to do with it.
#include "child_process.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>

namespace outflow::testenv {
namespace {

int first_ephemeral_port() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  range >> low;
  return low;
}

std::set<int> claim(int count) {
  std::set<int> ports;
  for (int i = 0; i < count; ++i) ports.insert(free_port());
  return ports;
}

TEST(FreePort, NeverComesFromTheRangeOutgoingConnectionsTakeTheirLocalPortsFrom) {
  const int low = first_ephemeral_port();
  ASSERT_GT(low, 0);
  const auto ports = claim(50);
  EXPECT_EQ(ports.size(), 50u) << "a port handed out twice";
  for (const int port : ports) EXPECT_LT(port, low) << port << " is in the ephemeral range";
}

TEST(FreePort, ATestProcessRunningBesideThisOneGetsOtherPorts) {
  const auto mine = claim(200);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    for (const int port : claim(200)) (void)!::write(pipe_fds[1], &port, sizeof port);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::set<int> theirs;
  int port = 0;
  while (::read(pipe_fds[0], &port, sizeof port) == sizeof port) theirs.insert(port);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_EQ(theirs.size(), 200u);
  for (const int p : theirs) EXPECT_EQ(mine.count(p), 0u) << p << " handed to both processes";
}

}  // namespace
}  // namespace outflow::testenv
