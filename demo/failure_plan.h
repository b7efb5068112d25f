#pragma once

// The demo's failing consumer, as a pure decision: which deliveries of which
// keys it fails (sending them to the dead-letter topic) and when it has seen
// the whole story, so the process can stop.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace outflow::demo {

// Fail the first `failures` attempts of the messages with this key.
struct FailureRule {
  std::string key;
  int failures = 1;
};

// "KEY=N": fail attempts 1..N of KEY. Throws std::invalid_argument saying what to write.
FailureRule parse_failure_rule(std::string_view text);

// Header outflow-attempt as the replayer writes it; absent means the first
// delivery. nullopt when present but not a positive number.
std::optional<int> attempt_of(const std::optional<std::string>& header);

enum class Verdict {
  Ignore,   // not a key of the story, or an attempt already judged (a redelivery)
  Fail,     // send it to the dead-letter topic
  Process,  // the consumer succeeds this time
};

class FailurePlan {
 public:
  // `max_attempts`: the pipeline's deadLetter.maxAttempts. A key failing
  // more often than that is parked by the replayer and never comes back.
  FailurePlan(std::vector<FailureRule> rules, int max_attempts);

  Verdict judge(const std::string& key, int attempt);

  // Every key reached its end: processed, or failed once more than the
  // retries allow (so the replayer parks it).
  bool done() const;

  // What is still awaited, for a timeout message: "order-2 attempt 3".
  std::vector<std::string> awaited() const;

 private:
  int final_attempt(const FailureRule& rule) const;

  std::vector<FailureRule> rules_;
  int max_attempts_;
  std::set<std::pair<std::string, int>> judged_;
};

}  // namespace outflow::demo
