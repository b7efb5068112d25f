#pragma once

// Real parts for the replayer's tests: a pipeline of the test's own whose
// topics (originals, dead-letter topic, retry tiers, parked) are created from
// the operator's own topic plan, a producer that sends dead letters the way
// applications do, and a reader that takes everything a topic holds.

#include "agent/replayer/headers.h"
#include "agent/replayer/replayer.h"
#include "common/kafka/client_config.h"
#include "common/pipeline/spec.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace outflow::testenv {

// Topic config to add to the operator's plan for `topic` (e.g. a small
// max.message.bytes on the parked topic); empty: the plan as it is.
using ExtraTopicConfig = std::function<std::map<std::string, std::string>(const std::string& topic)>;

// A pipeline with two original topics ("<prefix>-orders", "<prefix>-payments")
// and a dead-letter block of `dlq_partitions`; all its topics exist when this returns.
pipeline::PipelineSpec create_replay_pipeline(int max_attempts, std::int64_t initial_ms, int multiplier,
                                              std::int64_t max_ms, int dlq_partitions = 2,
                                              const ExtraTopicConfig& extra_config = {});

// Whether the broker knows `topic`, asked so that the question cannot create it.
bool topic_exists(const std::string& topic);

struct Record {
  std::string topic;
  int partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;
  agent::replayer::Headers headers;
  std::int64_t timestamp_ms = 0;
  std::optional<std::string> header(std::string_view name) const {
    return agent::replayer::last_value(headers, name);
  }
};

// Sends messages and waits until every one is acknowledged.
class TestProducer {
 public:
  TestProducer();
  ~TestProducer();
  TestProducer(const TestProducer&) = delete;
  TestProducer& operator=(const TestProducer&) = delete;

  // `timestamp_ms` 0: now. Throws when a delivery fails.
  void send(const std::string& topic, const std::optional<std::string>& key, const std::string& value,
            const agent::replayer::Headers& headers, std::int64_t timestamp_ms = 0);
  void flush();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Everything `topic` holds right now (up to its high watermarks), every partition.
std::vector<Record> read_all(const std::string& topic);

// Reads `topic` until `done(records)` holds or `timeout` passes; returns what it has.
template <typename Done>
std::vector<Record> read_until(const std::string& topic, Done done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::vector<Record> records;
    try {
      records = read_all(topic);
    } catch (const std::runtime_error&) {
      // A topic created a moment ago may not have a leader yet.
      if (std::chrono::steady_clock::now() > deadline) throw;
    }
    if (done(records) || std::chrono::steady_clock::now() > deadline) return records;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// Whether consumer group `group` has committed every partition of `topics`
// up to its end: nothing left for it to do.
bool group_caught_up(const std::string& group, const std::vector<std::string>& topics);

// Settings for a replayer on `spec` in a group of the test's own.
agent::replayer::ReplayerSettings replayer_settings(const pipeline::PipelineSpec& spec, const std::string& group);

// The p-th percentile (0..100) of `values`, nearest rank.
double percentile(std::vector<double> values, double p);

}  // namespace outflow::testenv
