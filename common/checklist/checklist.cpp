#include "common/checklist/checklist.h"

#include <fmt/format.h>

#include <algorithm>

namespace outflow::checklist {

namespace {

std::string_view label(Outcome o) {
  switch (o) {
    case Outcome::Ok:
      return "ok";
    case Outcome::Failed:
      return "FAIL";
    case Outcome::Skipped:
      return "skip";
  }
  return "?";
}

}  // namespace

std::string render(const std::vector<Item>& items) {
  std::string out;
  for (const auto& i : items) out += fmt::format("  {:<5} {}: {}\n", label(i.outcome), i.subject, i.detail);
  const auto failed = std::count_if(items.begin(), items.end(), [](const Item& i) { return i.outcome == Outcome::Failed; });
  if (failed == 0) {
    out += "verdict: ready, every check passed\n";
  } else {
    out += fmt::format("verdict: NOT READY, {} check{} failed\n", failed, failed == 1 ? "" : "s");
  }
  return out;
}

int exit_code(const std::vector<Item>& items) {
  const bool failed = std::any_of(items.begin(), items.end(), [](const Item& i) { return i.outcome == Outcome::Failed; });
  return failed ? kExitFailed : kExitReady;
}

}  // namespace outflow::checklist
