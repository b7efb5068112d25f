#pragma once

// One agent process: the breaker around Kafka, the outbox publisher, the
// status reporter, metrics and probes, wired together and stopped in the
// order that loses nothing (publisher drains first, then the last status
// write, then the servers).

#include "agent/config/agent_config.h"
#include "agent/options.h"

#include <memory>

namespace outflow::agent {

class Agent {
 public:
  // Connects nothing yet; throws (kafka::ConfigError, std::runtime_error) on
  // settings it cannot start with, e.g. a listen address in use.
  Agent(const Options& options, AgentConfig config);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  void start();
  void stop();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace outflow::agent
