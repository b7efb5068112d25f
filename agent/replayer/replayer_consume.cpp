// The replayer reading: what it consumes, holds until due and resumes, and
// the timers and flow gate that decide when.

#include "agent/replayer/replayer_impl.h"

#include "agent/replayer/consumer_errors.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace outflow::agent::replayer {

void Replayer::Impl::consume(kafka::MessageHandle message) {
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // librdkafka hands a group consumer's fatal error to the application
    // here, not to the error callback.
    consumer_error(message->err, rd_kafka_message_errstr(message.get()), ConsumerErrorSource::Poll);
    return;
  }
  const auto tp = source_of(message.get());
  auto* found = offsets.find(tp);
  // Not (or no longer) ours: whoever owns it reads it from the committed offset.
  if (found == nullptr) return;
  auto& ledger = *found;
  if (ledger.before_start(message->offset)) {
    look_back(tp, message.get());
    return;
  }
  // Fetched before the partition was paused; read again after the resume,
  // which seeks back to just after the held head.
  if (ledger.held()) return;
  if (!ledger.consume(message->offset)) return;  // a re-fetch we already have
  if (repeated_move(tp, message.get())) {
    // The first copy is (or was) republished: this one is dropped, as if done.
    ledger.finish(message->offset);
    pacer.finished(1, settings.now_ms());
    ++counters.repeats_dropped;
    return;
  }
  if (tier_of(tp.topic) == 0) {
    ++counters.received;
    if (hooks.received) hooks.received(1);
  }
  dispatch(std::move(message), false);
}

// A tier message read below the committed offset, after an assignment: only
// its position is remembered, so a repeat of it further on is recognised.
void Replayer::Impl::look_back(const TopicPartition& tp, const rd_kafka_message_t* m) {
  const auto it = dedups.find(tp);
  if (it == dedups.end()) return;
  if (const auto from = last_value(headers_of(m), header::kMovedFrom)) it->second.repeat(*from, m->offset);
}

// Whether a tier message is a second copy of a dead letter moved twice.
bool Replayer::Impl::repeated_move(const TopicPartition& tp, const rd_kafka_message_t* m) {
  const auto it = dedups.find(tp);
  if (it == dedups.end()) return false;
  const auto from = last_value(headers_of(m), header::kMovedFrom);
  return from && it->second.repeat(*from, m->offset);
}

int Replayer::Impl::tier_of(const std::string& topic) const {
  const auto it = tiers.find(topic);
  return it == tiers.end() ? 0 : it->second;
}

Route Replayer::Impl::decide(const rd_kafka_message_t* m) const {
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const auto timestamp = rd_kafka_message_timestamp(m, &type);
  const Source source{tier_of(rd_kafka_topic_name(m->rkt)),
                      type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : timestamp};
  return route(headers_of(m), source, settings.now_ms(), rules);
}

// Decides and acts on a consumed message, or on a held one whose time came.
// `was_held`: its partition is paused with it as head; resumed once it is
// on its way.
void Replayer::Impl::dispatch(kafka::MessageHandle message, bool was_held) {
  const auto tp = source_of(message.get());
  const auto route = decide(message.get());
  if (const auto* wait = std::get_if<NotYetDue>(&route)) {
    hold(tp, std::move(message), wait->until_ms, was_held);
    return;
  }
  const auto offset = message->offset;
  if (!produce(message, route)) {
    hold(tp, std::move(message), settings.now_ms() + settings.breaker_recheck.count(), was_held);
    return;
  }
  if (was_held) resume(tp, offset + 1);
}

void Replayer::Impl::hold(const TopicPartition& tp, kafka::MessageHandle message, std::int64_t wake_ms,
    bool already_paused) {
  if (!already_paused) {
    // Stops fetching; librdkafka drops what it had fetched past the head,
    // and the resume seeks back to just after it.
    auto list = one_partition(tp);
    rd_kafka_pause_partitions(consumer.get(), list.get());
  }
  offsets.at(tp).hold(wake_ms);
  held_messages[tp] = std::move(message);
  held_at.schedule(tp, wake_ms);
}

void Replayer::Impl::resume(const TopicPartition& tp, std::int64_t from) {
  offsets.at(tp).release();
  if (gate.paused()) return;  // flow_control resumes it
  restart(tp, from);
}

// Fetching starts again exactly at `from`, whatever librdkafka had fetched
// or skipped while paused.
void Replayer::Impl::restart(const TopicPartition& tp, std::int64_t from) {
  auto list = one_partition(tp, from);
  if (from >= 0) {
    if (auto* error = rd_kafka_seek_partitions(consumer.get(), list.get(), 0)) {
      note_error(fmt::format("seek {}[{}] to {}: {}", tp.topic, tp.partition, from, rd_kafka_error_string(error)));
      rd_kafka_error_destroy(error);
    }
  }
  rd_kafka_resume_partitions(consumer.get(), list.get());
}

void Replayer::Impl::fire_timers(std::int64_t now) {
  for (const auto& tp : held_at.take_due(now)) {
    auto node = held_messages.extract(tp);
    if (node.empty()) continue;
    offsets.at(tp).release();
    dispatch(std::move(node.mapped()), true);
  }
  for (const auto id : retry_at.take_due(now)) {
    auto node = retrying.extract(id);
    if (node.empty()) continue;
    auto& entry = node.mapped();
    if (!produce(entry.message, entry.route, entry.refusals)) {
      retry_later(std::move(entry), now + std::max(settings.retry_backoff, settings.breaker_recheck).count());
    }
  }
}

// Pauses every partition while what a crash would repeat reaches the
// in-flight window, resumes at half.
void Replayer::Impl::flow_control() {
  switch (gate.update(offsets.uncommitted())) {
    case FlowGate::Change::Pause:
      for (const auto& [tp, ledger] : offsets.ledgers()) {
        if (ledger.held()) continue;  // paused already
        auto list = one_partition(tp);
        rd_kafka_pause_partitions(consumer.get(), list.get());
      }
      break;
    case FlowGate::Change::Resume:
      for (const auto& [tp, ledger] : offsets.ledgers()) {
        if (!ledger.held()) restart(tp, ledger.next_offset().value_or(-1));
      }
      break;
    case FlowGate::Change::None: break;
  }
}

}  // namespace outflow::agent::replayer
