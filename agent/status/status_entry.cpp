#include "agent/status/status_entry.h"

#include "agent/status/material_change.h"
#include "common/kube/resource.h"
#include "common/time_format.h"

#include <algorithm>

namespace outflow::agent {
namespace {

using nlohmann::json;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";      // U+2026

bool continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// Length in bytes of the well-formed UTF-8 sequence at the start of `text`
// (Unicode 15, table 3-7: no overlong forms, no surrogates, nothing above
// U+10FFFF); 0 when it does not start with one.
std::size_t sequence_length(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // overlong
    if (lead == 0xED) second_max = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // overlong
    if (lead == 0xF4) second_max = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < second_min || byte(1) > second_max) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (!continuation(byte(i))) return 0;
  }
  return length;
}

}  // namespace

std::string clamp_utf8(std::string_view text, std::size_t max_chars) {
  if (max_chars == 0) return {};
  std::string out;
  out.reserve(text.size());
  // Where the text must end if it turns out to be too long: after
  // max_chars - 1 characters, leaving room for the ellipsis.
  std::size_t cut_at = 0;
  std::size_t chars = 0;
  while (!text.empty()) {
    if (chars == max_chars) {
      out.resize(cut_at);
      out += kEllipsis;
      return out;
    }
    const std::size_t length = sequence_length(text);
    if (length == 0) {
      out += kReplacement;
      text.remove_prefix(1);
    } else {
      out += text.substr(0, length);
      text.remove_prefix(length);
    }
    ++chars;
    if (chars == max_chars - 1) cut_at = out.size();
  }
  return out;
}

std::string status_field_manager(const std::string& pod) { return "outflow-agent/" + pod; }

json status_entry(const std::string& pod, const AgentState& state,
                  std::chrono::system_clock::time_point now) {
  json entry = {{"pod", pod}, {"breaker", std::string(breaker::to_string(state.breaker))}};
  if (state.breaker_since != std::chrono::system_clock::time_point{}) {
    entry["since"] = format_rfc3339(state.breaker_since);
  }
  if (state.outbox_backlog) entry["outboxBacklog"] = *state.outbox_backlog;
  if (state.oldest_pending_age_seconds) {
    entry["oldestPendingAgeSeconds"] = *state.oldest_pending_age_seconds;
  }
  entry["publishedTotal"] = state.published_total;
  entry["dlqPending"] = state.dlq_pending;
  entry["parkedTotal"] = state.parked_total;
  if (!state.last_error.empty()) {
    entry["lastError"] = clamp_utf8(state.last_error, kLastErrorMaxLength);
    if (state.last_error_at != std::chrono::system_clock::time_point{}) {
      entry["lastErrorTime"] = format_rfc3339(state.last_error_at);
    }
  }
  // When this entry was written: not a heartbeat (the entry is written only
  // when it changes); liveness is the pod's Ready condition.
  entry["heartbeatTime"] = format_rfc3339(now);
  return entry;
}

json status_apply_body(const PipelineRef& pipeline, const json& entry) {
  return {{"apiVersion", kube::kinds::event_pipelines().api_version()},
          {"kind", "EventPipeline"},
          {"metadata", {{"name", pipeline.name}, {"namespace", pipeline.namespace_name}}},
          {"status", {{"agents", json::array({entry})}}}};
}

std::chrono::milliseconds retry_delay(int failures, const WritePolicy& policy) {
  if (failures <= 0) return std::chrono::milliseconds::zero();
  const auto cap = policy.interval;
  auto delay = std::min(policy.first_retry, cap);
  // Doubling stops at the cap, so no failure count can overflow it.
  for (int i = 1; i < failures && delay < cap; ++i) delay = std::min(delay * 2, cap);
  return delay;
}

WriteDecision decide_write(const WriteHistory& history, const AgentState& current,
                           Clock::time_point now, const WritePolicy& policy) {
  const auto at = [now](Clock::time_point due) {
    return now >= due ? WriteDecision{true, now} : WriteDecision{false, due};
  };
  if (history.failures > 0) return at(history.failed_at + retry_delay(history.failures, policy));
  if (!history.written) return {true, now};
  const AgentState& written = *history.written;
  const bool breaker_changed =
      current.breaker != written.breaker || current.breaker_since != written.breaker_since;
  if (breaker_changed) return at(history.written_at + std::min(policy.min_gap, policy.interval));
  if (material_change(written, current)) return at(history.written_at + policy.interval);
  // Nothing a person would act on: no write at all, however long it has been.
  // Liveness is the pod's Ready condition, not this entry.
  return {false, now + policy.interval};
}

}  // namespace outflow::agent
