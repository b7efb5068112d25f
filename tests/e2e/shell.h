#pragma once

// Runs a command line through /bin/sh as a user would type it, for tests that
// drive the shipped executables and the cluster's command-line tools.

#include <string>

namespace outflow::e2e {

struct ShellResult {
  int exit_code = -1;  // -1 when the command did not exit normally
  std::string output;  // stdout and stderr together
};

ShellResult shell(const std::string& command);

// `s` as one single-quoted shell word.
std::string shell_quoted(const std::string& s);

}  // namespace outflow::e2e
