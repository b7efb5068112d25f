#pragma once

// One in-process publisher on an outbox and a topic of the test's own, against
// the real PostgreSQL and broker: what publisher_test and publisher_window_test
// (the *OutageTest suite that stops the broker) both start from.

#include "agent/outbox_fixture.h"
#include "agent/publisher/publisher.h"
#include "common/breaker/circuit_breaker.h"
#include "common/clock.h"
#include "common/pipeline/spec.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace outflow::agent_tests {

class PublisherFixture : public ::testing::Test {
 protected:
  explicit PublisherFixture(int partitions = 3) : partitions_(partitions) {}

  void SetUp() override;

  // The fixture's spec, the test environment's database and PLAINTEXT broker.
  agent::publisher::PublisherSettings settings() const;
  // A started publisher sharing the fixture's breaker and hooks.
  std::unique_ptr<agent::publisher::Publisher> start(agent::publisher::PublisherSettings s);

  // Polls every 50 ms: some tests measure how soon things happen.
  static bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

  testenv::OutboxDb db_;
  std::string topic_;
  pipeline::PipelineSpec spec_;
  breaker::CircuitBreaker breaker_{pipeline::BreakerSpec{}, SteadyClock::instance()};
  agent::publisher::PublisherHooks hooks_;

 private:
  int partitions_;
};

}  // namespace outflow::agent_tests
