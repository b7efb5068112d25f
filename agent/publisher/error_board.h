#pragma once

// Pure: the publisher's current problems for status.agents[].lastError, one
// per cause, each with the time it began. A person reading the status must be
// able to trust it: a problem is shown while its cause lasts and cleared once
// the cause is gone (the database answered a statement again, Kafka
// acknowledged a message or answered a request), never left behind.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace outflow::agent::publisher {

enum class ErrorSource { Database, Kafka };

struct ShownError {
  std::string message;
  std::chrono::system_clock::time_point since;
  bool operator==(const ShownError&) const = default;
};

class ErrorBoard {
 public:
  // The same message again keeps its first time: a problem that lasts is one
  // problem, not a new one every retry.
  void raise(ErrorSource source, std::string message, std::chrono::system_clock::time_point at);
  void clear(ErrorSource source);
  bool active(ErrorSource source) const;
  // The problem raised most recently among those still active.
  std::optional<ShownError> current() const;

 private:
  std::array<std::optional<ShownError>, 2> by_source_;
  std::array<std::uint64_t, 2> raised_order_{};
  std::uint64_t counter_ = 0;
};

}  // namespace outflow::agent::publisher
