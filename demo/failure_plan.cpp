#include "demo/failure_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace outflow::demo {
namespace {

std::optional<int> positive_int(std::string_view text) {
  int value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value < 1) return std::nullopt;
  return value;
}

}  // namespace

FailureRule parse_failure_rule(std::string_view text) {
  const auto eq = text.rfind('=');
  const auto failures = eq == std::string_view::npos ? std::nullopt : positive_int(text.substr(eq + 1));
  if (eq == 0 || !failures) {
    throw std::invalid_argument(
        fmt::format("--fail \"{}\": want KEY=N (fail the first N attempts of KEY, N at least 1)", text));
  }
  return {std::string(text.substr(0, eq)), *failures};
}

std::optional<int> attempt_of(const std::optional<std::string>& header) {
  if (!header) return 1;
  return positive_int(*header);
}

FailurePlan::FailurePlan(std::vector<FailureRule> rules, int max_attempts)
    : rules_(std::move(rules)), max_attempts_(max_attempts) {}

// The attempt that ends a key's story: the first one processed, or the one
// whose failure exhausts the retries (attempt max_attempts + 1 fails: parked).
int FailurePlan::final_attempt(const FailureRule& rule) const {
  return std::min(rule.failures + 1, max_attempts_ + 1);
}

Verdict FailurePlan::judge(const std::string& key, int attempt) {
  const auto rule = std::find_if(rules_.begin(), rules_.end(), [&](const FailureRule& r) { return r.key == key; });
  if (rule == rules_.end()) return Verdict::Ignore;
  if (!judged_.emplace(key, attempt).second) return Verdict::Ignore;
  return attempt <= rule->failures ? Verdict::Fail : Verdict::Process;
}

bool FailurePlan::done() const { return awaited().empty(); }

std::vector<std::string> FailurePlan::awaited() const {
  std::vector<std::string> out;
  for (const auto& rule : rules_) {
    const int last = final_attempt(rule);
    if (judged_.count({rule.key, last}) == 0) out.push_back(fmt::format("{} attempt {}", rule.key, last));
  }
  return out;
}

}  // namespace outflow::demo
