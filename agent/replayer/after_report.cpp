#include "agent/replayer/after_report.h"

#include "agent/replayer/size_limits.h"

namespace outflow::agent::replayer {

AfterReport after_report(const DeliveryReport& report, const SentCopy& sent, std::int64_t now_ms,
                         std::int64_t retry_backoff_ms) {
  if (report.delivered && !report.without_offset) return Done{};
  if (report.delivered || !report.refused_for_good) {
    return SendAgain{sent.route, sent.refusals, now_ms + retry_backoff_ms};
  }
  if (sent.refusals == 0) return SendAgain{sent.route, 1, now_ms + retry_backoff_ms};
  auto next = smaller(sent.route, report.why, sent.value_bytes);
  if (!next) return GiveUp{report.why};
  return SendAgain{std::move(*next), 0, now_ms};
}

}  // namespace outflow::agent::replayer
