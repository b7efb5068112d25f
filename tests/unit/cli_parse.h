#pragma once

// Parses a command line the way a binary's main() does, for flag tests.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace outflow::testing {

// Registers flags with `add_flags(app, options)`, parses `args` and returns
// CLI11's error text, or an empty string when the command line is accepted.
template <typename Options, typename AddFlags>
std::string parse_flags(AddFlags add_flags, Options& options, std::vector<std::string> args) {
  CLI::App app;
  add_flags(app, options);
  std::reverse(args.begin(), args.end());  // CLI11 consumes a reversed vector
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return {};
}

}  // namespace outflow::testing
