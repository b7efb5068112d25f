#pragma once

// CLI11 validators for the value kinds in common/flags.h and common/log/.

#include "common/flags.h"
#include "common/log/logging.h"

#include <CLI/CLI.hpp>

namespace outflow::cli {

struct ListenAddressValidator : CLI::Validator {
  ListenAddressValidator() {
    name_ = "ADDRESS";
    func_ = [](const std::string& text) -> std::string {
      return flags::parse_listen_address(text) ? std::string()
                                               : "expected host:port or :port, got \"" + text + "\"";
    };
  }
};

struct LogLevelValidator : CLI::Validator {
  LogLevelValidator() {
    name_ = "LEVEL";
    func_ = [](const std::string& text) -> std::string {
      return log::parse_level(text) ? std::string()
                                    : "expected trace, debug, info, warn or error, got \"" + text + "\"";
    };
  }
};

inline std::chrono::milliseconds duration_or_throw(const std::string& text, const std::string& flag) {
  const auto d = flags::parse_duration(text);
  if (!d || d->count() == 0) {
    throw CLI::ValidationError(flag, "expected a positive duration such as 30s or 10m, got \"" + text + "\"");
  }
  return *d;
}

}  // namespace outflow::cli
