#pragma once

// The three things hack/demo.sh asks of Kafka, each a command of
// `outflow-demo`. They print for a person and return the process exit code
// (0 ok, 1 the check failed or timed out, 2 bad arguments or input).

#include <chrono>
#include <string>
#include <vector>

namespace outflow::demo {

// Prints the first `count` messages of `topic` (key, payload, partition,
// offset, attempt); 1 if fewer came within `timeout`.
int show(const std::string& bootstrap, const std::string& topic, int count, std::chrono::seconds timeout);

// Reads `topic` until every row in `expected_file` (psql rows "id event_id
// key") was seen and the topic has been quiet for a moment, then prints the
// numbers; 0 only if nothing was lost and every key kept its order.
int verify(const std::string& bootstrap, const std::string& topic, const std::string& expected_file,
           std::chrono::seconds timeout);

// A consumer of `topic` that fails the first N attempts of the keys in
// `rules` ("KEY=N") and sends each failed message to `dead_letter_topic`
// under the dead-letter contract; returns once every key was processed or
// failed more than `max_attempts` times.
int fail(const std::string& bootstrap, const std::string& topic, const std::string& dead_letter_topic,
         const std::vector<std::string>& rules, int max_attempts, std::chrono::seconds timeout);

}  // namespace outflow::demo
