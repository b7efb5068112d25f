#include "common/event_fd.h"

#include <fmt/format.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace outflow {

EventFd::EventFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::runtime_error(fmt::format("eventfd: {}", std::strerror(errno)));
}

EventFd::~EventFd() { ::close(fd_); }

void EventFd::signal() const {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);
}

void EventFd::drain() const {
  std::uint64_t count = 0;
  [[maybe_unused]] const auto n = ::read(fd_, &count, sizeof count);
}

void EventFd::wait(int timeout_ms) const {
  pollfd p{fd_, POLLIN, 0};
  ::poll(&p, 1, timeout_ms);
}

}  // namespace outflow
