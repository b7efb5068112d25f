#pragma once

// What the replayer's in-process tests share: a fixture that starts replayers
// with hooks recording what they report, and dead letters as an application
// following the contract writes them. The real parts (topics, producer,
// reader) are in replayer_fixture.h.

#include "agent/replayer/headers.h"
#include "agent/replayer/replayer.h"
#include "agent/replayer/replayer_fixture.h"
#include "common/breaker/circuit_breaker.h"
#include "common/clock.h"
#include "common/pipeline/spec.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace outflow::replayer_tests {

// Polls every 20 ms: some tests measure how soon things happen.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// Milliseconds since the epoch, as Kafka timestamps count.
std::int64_t wall_ms();

// What an application following the contract adds to a failed message;
// attempt 0 leaves outflow-attempt out (meaning 1).
agent::replayer::Headers dead_letter_headers(const std::string& topic, int attempt);

std::map<std::string, testenv::Record> by_value(const std::vector<testenv::Record>& records);

// The values among `records`, each once: what arrived, repeats aside.
std::set<std::string> distinct_values(const std::vector<testenv::Record>& records);

// The topics a replayer of `dlq` with `max_attempts` tiers reads: the
// dead-letter topic and every retry tier.
std::vector<std::string> subscribed_topics(const std::string& dlq, int max_attempts);

// A breaker that one failure opens for `open_duration_ms`: a single failure
// counted against the cluster shows.
pipeline::BreakerSpec hair_trigger(std::int64_t open_duration_ms);

class ReplayerTest : public ::testing::Test {
 protected:
  // Hooks that count and time what the replayer reports into this fixture.
  agent::replayer::ReplayerHooks hooks();
  // A started replayer sharing the fixture's breaker.
  std::unique_ptr<agent::replayer::Replayer> start(agent::replayer::ReplayerSettings settings);
  // Republished messages acknowledged so far, over every replayer started here.
  std::int64_t republished();

  breaker::CircuitBreaker breaker_{pipeline::BreakerSpec{}, SteadyClock::instance()};
  std::mutex mu_;
  std::int64_t republished_ = 0;
  std::chrono::steady_clock::time_point first_republish_{}, last_republish_{};  // acknowledgements
  std::vector<double> lags_;
  std::atomic<std::int64_t> parked_{0};
  std::atomic<std::int64_t> received_{0};
  testenv::TestProducer producer_;
};

}  // namespace outflow::replayer_tests
