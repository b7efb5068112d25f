#include "agent/replayer/kafka_glue.h"

#include <fmt/format.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace outflow::agent::replayer {

namespace {
// The eventfd counter is 8 bytes; librdkafka writes exactly this payload.
constexpr std::uint64_t kWakePayload = 1;
}  // namespace

TopicPartition source_of(const rd_kafka_message_t* m) { return {rd_kafka_topic_name(m->rkt), m->partition}; }

Headers headers_of(const rd_kafka_message_t* m) {
  Headers out;
  rd_kafka_headers_t* raw = nullptr;
  // Borrowed: the message keeps ownership.
  if (rd_kafka_message_headers(m, &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  for (std::size_t i = 0; rd_kafka_header_get_all(raw, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    out.push_back({name, value ? std::optional<std::string>(std::string(static_cast<const char*>(value), size))
                               : std::nullopt});
  }
  return out;
}

kafka::HeadersHandle to_kafka(const Headers& headers) {
  kafka::HeadersHandle out(rd_kafka_headers_new(headers.size()));
  for (const auto& h : headers) {
    rd_kafka_header_add(out.get(), h.name.data(), static_cast<ssize_t>(h.name.size()),
                        h.value ? h.value->data() : nullptr, h.value ? static_cast<ssize_t>(h.value->size()) : 0);
  }
  return out;
}

kafka::PartitionListHandle one_partition(const TopicPartition& tp, std::int64_t offset) {
  kafka::PartitionListHandle list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
  return list;
}

EventFd::EventFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::runtime_error(fmt::format("eventfd: {}", std::strerror(errno)));
}

EventFd::~EventFd() { ::close(fd_); }

void EventFd::signal() const {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);  // a full counter still wakes
}

void EventFd::drain() const {
  std::uint64_t count = 0;
  [[maybe_unused]] const auto n = ::read(fd_, &count, sizeof count);
}

void EventFd::wait(int timeout_ms) const {
  pollfd p{fd_, POLLIN, 0};
  ::poll(&p, 1, timeout_ms);
}

void EventFd::attach(rd_kafka_queue_t* queue) const {
  rd_kafka_queue_io_event_enable(queue, fd_, &kWakePayload, sizeof kWakePayload);
}

}  // namespace outflow::agent::replayer
