#pragma once

// The demo's thin Kafka adapters: a reader of a whole topic from its first
// offset, without a consumer group, and a producer that sends one message and
// waits for the broker's acknowledgement.

#include "common/kafka/handles.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace outflow::demo {

struct Message {
  std::string topic;
  int partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;
  std::map<std::string, std::string> headers;  // the last value of each name

  std::optional<std::string> header(const std::string& name) const;
};

class TopicReader {
 public:
  // Throws std::runtime_error when the topic's partitions cannot be learned
  // within `metadata_timeout` (broker away, topic missing).
  TopicReader(const std::string& bootstrap, const std::string& topic,
              std::chrono::milliseconds metadata_timeout = std::chrono::seconds(30));
  ~TopicReader();
  TopicReader(const TopicReader&) = delete;
  TopicReader& operator=(const TopicReader&) = delete;

  // The next message, or nullopt when none came within `wait`.
  std::optional<Message> next(std::chrono::milliseconds wait);

 private:
  kafka::ClientHandle consumer_;
};

class Producer {
 public:
  explicit Producer(const std::string& bootstrap);
  // Sends and waits for the acknowledgement (acks=all); throws std::runtime_error on failure.
  void send(const std::string& topic, const std::optional<std::string>& key, const std::string& value,
            const std::vector<std::pair<std::string, std::string>>& headers);

 private:
  kafka::ClientHandle producer_;
};

}  // namespace outflow::demo
