// Settling the window: each batch, oldest first, once Kafka reported on all
// of it (or it was given up), and recording the outcome in the outbox: poison
// on the publisher's session, published marks on the mark session.

#include "agent/publisher/publisher_loop.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace outflow::agent::publisher {

void Publisher::Loop::record_settlement(const Settlement& s) {
  if (!s.published.empty()) call_hook(hooks.published, s.published.size(), s.latencies_seconds);
  if (!s.poison.empty()) call_hook(hooks.poisoned, s.poison.size());
  std::lock_guard lock(stats_mutex);
  stats.published_total += static_cast<std::int64_t>(s.published.size());
  stats.poison_total += static_cast<std::int64_t>(s.poison.size());
}

void Publisher::Loop::flush_unsettled() {
  collect_marks(false);
  if (!unsettled.poison.empty()) {
    // Rare, and the row's reason goes with it: on the publisher's own session.
    store.mark_poison(unsettled.poison);
    for (const auto& [id, reason] : unsettled.poison) {
      spdlog::warn("outbox row {} set aside as poison: {}", id, reason);
    }
    Settlement poisoned;
    poisoned.poison = std::move(unsettled.poison);
    unsettled.poison.clear();
    record_settlement(poisoned);
  }
  // One mark at a time: what is acknowledged meanwhile goes with the next.
  if (unsettled.published.empty() || marks.busy()) return;
  marks.start(store.mark_published_sql(), unsettled.published);
  marking = std::move(unsettled);
  unsettled = Settlement{};
}

void Publisher::Loop::collect_marks(bool wait) {
  if (!marks.busy()) return;
  try {
    if (wait) {
      marks.finish();
    } else if (!marks.poll()) {
      return;
    }
  } catch (...) {
    unsettled.published.insert(unsettled.published.begin(), marking.published.begin(), marking.published.end());
    unsettled.latencies_seconds.insert(unsettled.latencies_seconds.begin(), marking.latencies_seconds.begin(),
                                       marking.latencies_seconds.end());
    marking = Settlement{};
    throw;
  }
  record_settlement(marking);
  marking = Settlement{};
}

void Publisher::Loop::flush_all_marks() {
  collect_marks(true);
  flush_unsettled();
  collect_marks(true);
}

bool Publisher::Loop::marks_pending() const {
  return !unsettled.published.empty() || !unsettled.poison.empty() || marks.busy();
}

void Publisher::Loop::finish_batch() {
  const auto& batch = window.front();
  const bool solo = batch.rows().size() == 1 && batch.rows().front().id <= solo_until_id;
  auto outcomes = batch.outcomes();
  if (solo) {
    if (const auto* refused = std::get_if<Refused>(&outcomes.front())) {
      // Alone, it cannot be another row's fault. A producer that stopped for
      // good is the row's fault only when what stopped it was the broker
      // refusing this very message (the gapless guarantee turns that into a
      // fatal error).
      const auto cause = producer ? producer->fatal_cause() : RD_KAFKA_RESP_ERR_NO_ERROR;
      if (refused->message_at_fault) {
        outcomes.front() = Poison{fmt::format("{} (sent alone)", refused->error)};
      } else if (kafka::is_permanent_for_message(cause)) {
        outcomes.front() = Poison{fmt::format("the broker refused it: {} (sent alone)", rd_kafka_err2str(cause))};
      }
    }
  }
  auto settlement = settle(batch.rows(), outcomes, chain_stuck);
  for (const auto& key : settlement.overtaken_keys) {
    spdlog::error("order of key \"{}\" broken: a later row was acknowledged before an earlier one", key);
  }
  // A refusal may mean the topics' limits changed under us: read them again
  // before the next batch.
  if (settlement.refused > 0) next_limits = Clock::now();
  if (settlement.refused > 0 && !solo) {
    solo_until_id = std::max(solo_until_id, batch.rows().back().id);
    spdlog::warn("the broker refused {} message(s) of a batch ({}); sending rows up to id {} one at a time to "
                 "find which it refuses alone",
                 settlement.refused, settlement.last_error, solo_until_id);
  }
  // Kept until the outbox has it: if the marks fail, they are retried before
  // anything else is read.
  unsettled.published.insert(unsettled.published.end(), settlement.published.begin(), settlement.published.end());
  unsettled.poison.insert(unsettled.poison.end(), settlement.poison.begin(), settlement.poison.end());
  unsettled.latencies_seconds.insert(unsettled.latencies_seconds.end(), settlement.latencies_seconds.begin(),
                                     settlement.latencies_seconds.end());
  if (settlement.failed + settlement.refused + settlement.not_sent + settlement.poison.size() > 0) {
    chain_trouble = true;
  }
  window.pop_front();
  if (producer && producer->fatal()) {
    spdlog::warn("replacing the Kafka producer after a fatal error; its unacknowledged rows stay pending");
    const auto dying = std::move(producer);  // purged when this scope ends: no report reaches anyone
    give_up_window();
  }
}

void Publisher::Loop::settle_completed() {
  while (!window.empty() && window.front().complete()) finish_batch();
}

void Publisher::Loop::give_up_window() {
  chain_trouble = true;
  std::size_t unanswered = 0;
  for (auto& b : window) {
    unanswered += b.awaiting();
    b.abandon();
  }
  while (!window.empty()) finish_batch();
  // A half-open trial among them will never be answered now. Were it left
  // outstanding, the breaker would keep its permits spent and this replica
  // would take its buckets back and publish nothing, for good.
  if (unanswered > 0) report_transition(breaker.abandon_outstanding());
}

}  // namespace outflow::agent::publisher
