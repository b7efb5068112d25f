#pragma once

// The Kafka side of one bench run: a topic of its own (12 partitions,
// LogAppendTime, deleted afterwards) and an independent consumer that reads
// it from the beginning into a DeliveryTally while the relay runs.

#include "delivery_tally.h"

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace outflow::bench {

class BenchTopic {
 public:
  explicit BenchTopic(int partitions);  // creates it; throws when the broker refuses
  ~BenchTopic();                         // deletes it: a round leaves hundreds of MB otherwise
  BenchTopic(const BenchTopic&) = delete;
  BenchTopic& operator=(const BenchTopic&) = delete;

  const std::string& name() const { return name_; }
  int partitions() const { return partitions_; }

 private:
  std::string name_;
  int partitions_;
};

class TopicChecker {
 public:
  TopicChecker(const BenchTopic& topic, std::size_t expected);
  ~TopicChecker();
  TopicChecker(const TopicChecker&) = delete;
  TopicChecker& operator=(const TopicChecker&) = delete;

  // Runs `read` on the tally as it stands, under the reader's lock.
  void inspect(const std::function<void(const DeliveryTally&)>& read) const;
  std::size_t delivered() const;
  std::size_t warm_up() const;

 private:
  void run(std::string topic, int partitions);

  mutable std::mutex mutex_;
  DeliveryTally tally_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace outflow::bench
