#pragma once

// The output of a command a person runs to ask "is this ready?"
// (`outflow-agent check`, `outflow-operator check`): one line per thing
// checked, each with its outcome and what was found or what to fix, then the
// verdict; the exit code says the same to a script or a `helm test` hook.

#include <string>
#include <vector>

namespace outflow::checklist {

enum class Outcome { Ok, Failed, Skipped };

struct Item {
  std::string subject;  // "postgres", "topic shop.orders", "pod outflow-7d9f...", ...
  Outcome outcome = Outcome::Ok;
  std::string detail;  // what was found, or what is wrong and what to do
  bool operator==(const Item&) const = default;
};

inline constexpr int kExitReady = 0;
inline constexpr int kExitConfig = 1;  // the command's own input is invalid (one line)
inline constexpr int kExitFailed = 2;  // a check failed

// One line per item ("  ok    postgres: ..."), then the verdict line.
std::string render(const std::vector<Item>& items);
int exit_code(const std::vector<Item>& items);

}  // namespace outflow::checklist
