// Whether Kafka answers this replica: the breaker fed by reports, a request
// timeout of silence tripping it, standing down after standDownAfter, and
// probing until Kafka answers again.

#include "agent/publisher/publisher_loop.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace outflow::agent::publisher {
namespace {

// The longest a stood-down replica's reachability probe may take.
constexpr milliseconds kProbeTimeout{5000};

}  // namespace

void Publisher::Loop::feed_breaker(BreakerVerdict verdict) {
  if (verdict == BreakerVerdict::Success) report_transition(breaker.record_success());
  if (verdict == BreakerVerdict::Failure) report_transition(breaker.record_failure());
}

void Publisher::Loop::watch_in_flight(Clock::time_point now) {
  // Kafka is silent only if no batch heard anything: a report for any of
  // them is an answer.
  std::optional<Clock::duration> quiet;
  for (const auto& b : window) {
    if (!b.complete()) quiet = std::min(quiet.value_or(Clock::duration::max()), b.silence(now));
  }
  if (!quiet) return;
  const auto silence = last_report_at ? std::min(*quiet, now - *last_report_at) : *quiet;
  if (silence < milliseconds(settings.kafka.request_timeout_ms)) return;
  // A whole request timeout without a single report: the cluster is not
  // answering. That is an outage whatever the window holds, and the default
  // alert must fire within requestTimeoutMs of it. Tripping an open breaker
  // changes nothing; a half-open one whose trial is this silence reopens.
  const auto transition = breaker.trip();
  if (!transition) return;
  const auto message = fmt::format("Kafka acknowledged nothing for {} ms while {} message(s) waited",
                                   std::chrono::duration_cast<milliseconds>(silence).count(), awaiting());
  spdlog::warn("{}", message);
  raise(ErrorSource::Kafka, message);
  report_transition(transition);
}

void Publisher::Loop::watch_breaker(Clock::time_point now) {
  const auto snapshot = breaker.snapshot();
  report_transition(snapshot.transition);
  if (snapshot.state == breaker::State::Closed) {
    unhealthy_since.reset();
    return;
  }
  if (!unhealthy_since) unhealthy_since = now;
  // The breaker is shared with the replayer: stand down only when this
  // publisher has seen Kafka fail it too, not for the replayer's trouble alone.
  if (!standing_down && errors.active(ErrorSource::Kafka) && now - *unhealthy_since >= settings.stand_down_after) {
    stand_down(now);
  }
}

// Kafka has been unreachable from here for standDownAfter: stop holding a
// share of the outbox that other replicas may well be able to publish.
void Publisher::Loop::stand_down(Clock::time_point now) {
  spdlog::warn("Kafka unreachable from this replica for {} s: giving up its outbox buckets so healthy replicas "
               "publish them; probing Kafka every {} ms",
               std::chrono::duration_cast<std::chrono::seconds>(now - *unhealthy_since).count(),
               settings.spec.circuit_breaker.open_duration_ms);
  give_up_window();
  // Purged: none of this replica's messages can reach Kafka after the
  // rows' new owner sends them.
  producer.reset();
  try {
    if (store.connected()) flush_all_marks();
  } catch (const std::exception& e) {
    spdlog::warn("could not mark acknowledged rows before standing down ({}); they will be sent again", e.what());
    unsettled = Settlement{};
    marking = Settlement{};
    marks.disconnect();
  }
  store.leave();
  housekeeper.set_owned({});
  standing_down = true;
  next_probe = now + milliseconds(settings.spec.circuit_breaker.open_duration_ms);
  std::lock_guard lock(stats_mutex);
  stats.standing_down = true;
  stats.database_connected = false;
  stats.owned_buckets = 0;
}

void Publisher::Loop::probe(Clock::time_point now) {
  if (now < next_probe) return;
  next_probe = now + milliseconds(settings.spec.circuit_breaker.open_duration_ms);
  const auto timeout = std::min(milliseconds(settings.kafka.request_timeout_ms), kProbeTimeout);
  next_limits = now;  // read them afresh: this is the probe's first request
  if (!ensure_kafka(now) || !producer->reachable(timeout)) return;
  spdlog::info("Kafka reachable again: taking outbox buckets back");
  standing_down = false;
  unhealthy_since.reset();
  next_connect = now;
  std::lock_guard lock(stats_mutex);
  stats.standing_down = false;
}

}  // namespace outflow::agent::publisher
