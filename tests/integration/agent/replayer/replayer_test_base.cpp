#include "agent/replayer/replayer_test_base.h"

#include "agent/replayer/schedule.h"
#include "child_process.h"

namespace outflow::replayer_tests {

using namespace std::chrono_literals;
using agent::replayer::Headers;
using agent::replayer::Replayer;
using agent::replayer::ReplayerHooks;
using agent::replayer::ReplayerSettings;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  return testenv::eventually(condition, timeout, 20ms);
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Headers dead_letter_headers(const std::string& topic, int attempt) {
  Headers h{{"trace-id", "trace-1"},
            {"outflow-original-topic", topic},
            {"outflow-original-partition", "0"},
            {"outflow-original-offset", "17"},
            {"outflow-error", "payment service timed out"},
            {"outflow-failed-at", std::to_string(wall_ms())}};
  if (attempt > 0) h.push_back({"outflow-attempt", std::to_string(attempt)});
  return h;
}

std::map<std::string, testenv::Record> by_value(const std::vector<testenv::Record>& records) {
  std::map<std::string, testenv::Record> out;
  for (const auto& r : records) out.emplace(r.value, r);
  return out;
}

std::set<std::string> distinct_values(const std::vector<testenv::Record>& records) {
  std::set<std::string> out;
  for (const auto& r : records) out.insert(r.value);
  return out;
}

std::vector<std::string> subscribed_topics(const std::string& dlq, int max_attempts) {
  std::vector<std::string> topics{dlq};
  for (int tier = 1; tier <= max_attempts; ++tier) topics.push_back(agent::replayer::retry_tier_topic(dlq, tier));
  return topics;
}

pipeline::BreakerSpec hair_trigger(std::int64_t open_duration_ms) {
  pipeline::BreakerSpec s;
  s.failure_rate_threshold = 100;
  s.minimum_calls = 1;
  s.window_size = 1;
  s.open_duration_ms = open_duration_ms;
  s.half_open_calls = 1;
  return s;
}

ReplayerHooks ReplayerTest::hooks() {
  ReplayerHooks h;
  h.republished = [this](std::size_t n) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    if (republished_ == 0) first_republish_ = now;
    republished_ += static_cast<std::int64_t>(n);
    last_republish_ = now;
  };
  h.parked = [this](std::size_t n) { parked_ += static_cast<std::int64_t>(n); };
  h.received = [this](std::size_t n) { received_ += static_cast<std::int64_t>(n); };
  h.due_lag = [this](double seconds) {
    std::lock_guard lock(mu_);
    lags_.push_back(seconds);
  };
  return h;
}

std::unique_ptr<Replayer> ReplayerTest::start(ReplayerSettings settings) {
  auto r = std::make_unique<Replayer>(std::move(settings), breaker_, hooks());
  r->start();
  return r;
}

std::int64_t ReplayerTest::republished() {
  std::lock_guard lock(mu_);
  return republished_;
}

}  // namespace outflow::replayer_tests
