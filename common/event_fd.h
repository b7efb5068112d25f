#pragma once

// An eventfd owned for its lifetime: the one way a loop sleeping in poll(2)
// is woken from another thread (stop()) or by librdkafka (a queue turning
// non-empty). Used by the outbox publisher and the dead-letter replayer.

namespace outflow {

class EventFd {
 public:
  EventFd();  // throws std::runtime_error when the kernel refuses one
  ~EventFd();
  EventFd(const EventFd&) = delete;
  EventFd& operator=(const EventFd&) = delete;

  int fd() const { return fd_; }
  // Makes the fd readable until drained; a full counter still wakes.
  void signal() const;
  void drain() const;
  // Sleeps until signalled or `timeout_ms` passed.
  void wait(int timeout_ms) const;

 private:
  int fd_;
};

}  // namespace outflow
