#include "agent/publisher/publisher_fixture.h"

#include "child_process.h"
#include "testenv.h"

namespace outflow::agent_tests {

using namespace std::chrono_literals;

void PublisherFixture::SetUp() {
  topic_ = testenv::create_topic(partitions_);
  spec_ = testenv::pipeline_for(db_.table(), topic_);
}

agent::publisher::PublisherSettings PublisherFixture::settings() const {
  agent::publisher::PublisherSettings s;
  s.spec = spec_;
  s.database_url = testenv::require("OUTFLOW_TEST_PG_URL");
  s.kafka = testenv::plaintext_kafka();
  return s;
}

std::unique_ptr<agent::publisher::Publisher> PublisherFixture::start(agent::publisher::PublisherSettings s) {
  auto p = std::make_unique<agent::publisher::Publisher>(std::move(s), breaker_, hooks_);
  p->start();
  return p;
}

bool PublisherFixture::eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  return testenv::eventually(condition, timeout, 50ms);
}

}  // namespace outflow::agent_tests
