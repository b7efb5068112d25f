// The replayer sending: republishing, moving and parking copies, what their
// delivery reports mean (after_report.h), and what the breaker hears.

#include "agent/replayer/replayer_impl.h"

#include "agent/replayer/after_report.h"
#include "common/kafka/producer_settings.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace outflow::agent::replayer {

// Sends `message` as `route` says, or something smaller when it cannot go
// whole (size_limits.h). False when it was not sent (the breaker refused,
// or librdkafka's queue did): the caller keeps it and tries later. True
// also when it was given up: its offset is finished.
bool Replayer::Impl::produce(kafka::MessageHandle& message, Route route, int refusals) {
  const auto permission = breaker.allow();
  if (permission.transition) report(*permission.transition);
  if (!permission.allowed) return false;

  const auto headers = headers_of(message.get());
  const std::optional<std::string> key =
      message->key ? std::optional<std::string>(std::string(static_cast<const char*>(message->key), message->key_len))
                   : std::nullopt;
  for (;;) {
    std::string topic;
    Headers out;
    std::int32_t partition = RD_KAFKA_PARTITION_UA;  // by key
    bool with_value = true;
    if (const auto* t = std::get_if<MoveToTier>(&route)) {
      topic = retry_tier_topic(dlq, t->tier);
      out = tier_headers(headers, moved_from(rd_kafka_topic_name(message->rkt), message->partition, message->offset));
      if (const auto count = partition_counts.find(topic); count != partition_counts.end()) {
        partition = tier_partition(message->partition, count->second);
      }
    } else if (const auto* r = std::get_if<Republish>(&route)) {
      topic = r->topic;
      out = republish_headers(headers, r->attempt);
    } else if (const auto* p = std::get_if<Park>(&route)) {
      topic = parked;
      out = parked_headers(headers, *p);
      with_value = !p->dropped_value;
    } else {
      return false;
    }

    const std::size_t value_size = with_value ? message->len : 0;
    if (const auto why = over_limit(topic, kafka::single_record_batch_bytes(key, value_size, record_headers(out)),
                                    limits)) {
      auto next = smaller(route, *why, message->len);
      if (!next) {
        give_up(message.get(), *why);
        return true;
      }
      route = std::move(*next);
      refusals = 0;
      continue;
    }
    if (const auto* p = std::get_if<Park>(&route)) {
      spdlog::warn("parking {}[{}]@{}: {}", rd_kafka_topic_name(message->rkt), message->partition, message->offset,
                   p->reason);
    }

    auto kafka_headers = to_kafka(out);
    const auto id = next_id++;
    // librdkafka's V_ macros cast their arguments without parentheses.
    const void* key_data = message->key;
    const std::size_t key_size = message->key_len;
    void* value = with_value ? message->payload : nullptr;
    void* opaque = reinterpret_cast<void*>(static_cast<std::uintptr_t>(id));
    const auto error = rd_kafka_producev(
        producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(key_data, key_size), RD_KAFKA_V_VALUE(value, value_size),
        // A copy: the consumed message may be dropped (rebalance) before the report.
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(kafka_headers.get()),
        RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {
      (void)kafka_headers.release();  // librdkafka owns them now
      in_flight.emplace(id, Outgoing{std::move(message), route, settings.now_ms(), refusals});
      return true;
    }
    if (kafka::is_permanent_for_message(error)) {
      // This message's fault, never the cluster's: no breaker failure (the
      // permit was used, so it hears a success), and something smaller goes.
      feed_breaker(false);
      refresh_limits = true;
      auto next = smaller(route, fmt::format("the producer refused it for {}: {}", topic, rd_kafka_err2str(error)),
                          message->len);
      if (!next) {
        give_up(message.get(), fmt::format("the producer refused it for {}: {}", topic, rd_kafka_err2str(error)));
        return true;
      }
      route = std::move(*next);
      refusals = 0;
      continue;
    }
    note_error(fmt::format("cannot produce to {}: {}", topic, rd_kafka_err2str(error)));
    feed_breaker(true);
    return false;
  }
}

std::vector<kafka::RecordHeader> Replayer::Impl::record_headers(const Headers& headers) {
  std::vector<kafka::RecordHeader> out;
  out.reserve(headers.size());
  for (const auto& h : headers) out.emplace_back(h.name, h.value);
  return out;
}

// Not even a copy without its value can be parked (its key and headers
// alone are too big, or Kafka refused that too). Nothing would change by
// trying again, and a partition must never be pinned by one message: it
// is said loudly and counted, and its offset finished. The dead letter
// itself stays in its topic until the topic's retention removes it.
void Replayer::Impl::give_up(const rd_kafka_message_t* m, const std::string& why) {
  spdlog::error("dead letter {}[{}]@{} given up: it cannot be parked, not even without its value: {}",
                rd_kafka_topic_name(m->rkt), m->partition, m->offset, why);
  note_error(fmt::format("dead letter {}[{}]@{} given up: {}", rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                         why));
  offsets.finish(source_of(m), m->offset);
  pacer.finished(1, settings.now_ms());
  ++counters.given_up;
  if (hooks.given_up) hooks.given_up(1);
}

void Replayer::Impl::on_delivery(rd_kafka_t*, const rd_kafka_message_t* report, void* opaque) {
  static_cast<Impl*>(opaque)->delivered(report);
}

void Replayer::Impl::delivered(const rd_kafka_message_t* report) {
  const auto id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(report->_private));
  const bool ok = report->err == RD_KAFKA_RESP_ERR_NO_ERROR;
  const bool permanent = !ok && kafka::is_permanent_for_message(report->err);
  // A purge during stop or a producer replacement says nothing about the cluster.
  const bool purged = report->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                      report->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT;
  if (!purged) feed_breaker(!ok && !permanent);

  const auto it = in_flight.find(id);
  if (it == in_flight.end()) return;  // its partition was revoked meanwhile
  auto entry = std::move(it->second);
  in_flight.erase(it);

  const std::string topic = ok ? std::string() : rd_kafka_topic_name(report->rkt);
  const auto why = ok ? std::string() : fmt::format("Kafka refused it for {}: {}", topic, rd_kafka_err2str(report->err));
  if (permanent) {
    // The limits may have changed; the next produce checks against new ones.
    refresh_limits = true;
    note_error(fmt::format("{}[{}]@{}: {}", rd_kafka_topic_name(entry.message->rkt), entry.message->partition,
                           entry.message->offset, why));
  } else if (!ok && !purged) {
    note_error(fmt::format("delivery to {} failed: {}", topic, rd_kafka_err2str(report->err)));
  }
  const bool without_offset = ok && report->offset < 0;
  if (without_offset) {
    spdlog::warn("{}[{}]@{}: Kafka acknowledged its copy to {} only implicitly (no offset); sending it again",
                 rd_kafka_topic_name(entry.message->rkt), entry.message->partition, entry.message->offset,
                 rd_kafka_topic_name(report->rkt));
  }
  auto next = after_report({ok, permanent, why, without_offset}, {entry.route, entry.refusals, entry.message->len},
                           settings.now_ms(), settings.retry_backoff.count());
  if (std::holds_alternative<Done>(next)) {
    finished_one(entry);
  } else if (auto* again = std::get_if<SendAgain>(&next)) {
    entry.route = std::move(again->route);
    entry.refusals = again->refusals;
    retry_later(std::move(entry), again->at_ms);
  } else {
    give_up(entry.message.get(), std::get<GiveUp>(next).why);
  }
}

// A message whose produce failed is sent again at `at`; its partition keeps
// flowing, only its offset blocks the commit.
void Replayer::Impl::retry_later(Outgoing entry, std::int64_t at) {
  const auto id = next_id++;
  retrying.emplace(id, std::move(entry));
  retry_at.schedule(id, at);
}

void Replayer::Impl::finished_one(const Outgoing& entry) {
  offsets.finish(source_of(entry.message.get()), entry.message->offset);
  pacer.finished(1, settings.now_ms());
  if (std::holds_alternative<MoveToTier>(entry.route)) {
    ++counters.moved;
  } else if (const auto* r = std::get_if<Republish>(&entry.route)) {
    ++counters.republished;
    if (hooks.republished) hooks.republished(1);
    const auto late_ms = std::max<std::int64_t>(0, entry.produced_ms - r->due_ms);
    if (hooks.due_lag) hooks.due_lag(static_cast<double>(late_ms) / 1000.0);
  } else if (std::holds_alternative<Park>(entry.route)) {
    ++counters.parked;
    if (hooks.parked) hooks.parked(1);
  }
}

void Replayer::Impl::feed_breaker(bool failed) {
  const auto transition = failed ? breaker.record_failure() : breaker.record_success();
  if (transition) report(*transition);
}

void Replayer::Impl::report(const breaker::Transition& t) {
  if (hooks.breaker_transition) hooks.breaker_transition(t);
}

void Replayer::Impl::on_producer_error(rd_kafka_t* client, int code, const char* reason, void* opaque) {
  auto* self = static_cast<Impl*>(opaque);
  const auto error = static_cast<rd_kafka_resp_err_t>(code);
  if (error == RD_KAFKA_RESP_ERR__FATAL) {
    char detail[512] = {0};
    rd_kafka_fatal_error(client, detail, sizeof detail);
    self->note_error(fmt::format("replayer producer failed for good: {}", detail));
    self->producer_fatal = true;
    self->feed_breaker(true);
    return;
  }
  if (error == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    self->note_error(fmt::format("Kafka: {}", reason ? reason : rd_kafka_err2str(error)));
    self->feed_breaker(true);
    return;
  }
  spdlog::debug("replayer producer: {}", reason ? reason : rd_kafka_err2str(error));
}

void Replayer::Impl::on_consumer_error(rd_kafka_t*, int code, const char* reason, void* opaque) {
  const auto error = static_cast<rd_kafka_resp_err_t>(code);
  static_cast<Impl*>(opaque)->consumer_error(error, reason ? reason : rd_kafka_err2str(error),
                                             ConsumerErrorSource::Callback);
}

// The consumer retries by itself after any error but a fatal one; the
// producer's reports are what the breaker goes by, so these are only told.
// A fatal one (fenced: another member joined under its group.instance.id)
// leaves it reading nothing more, ever: run() replaces it. Said and counted
// once per consumer.
void Replayer::Impl::consumer_error(rd_kafka_resp_err_t error, const char* what, ConsumerErrorSource source) {
  switch (consumer_error_action(error, source)) {
    case ConsumerErrorAction::Ignore: return;
    case ConsumerErrorAction::Debug: spdlog::debug("replayer consumer: {}", what); return;
    case ConsumerErrorAction::Tell: note_error(fmt::format("Kafka consumer: {}", what)); return;
    case ConsumerErrorAction::Replace: break;
  }
  if (consumer_fatal) return;
  consumer_fatal = true;
  char detail[512] = {0};
  rd_kafka_fatal_error(consumer.get(), detail, sizeof detail);
  replace_consumer_at = consumer_backoff.replace_at(settings.now_ms());
  if (consumer_backoff.wait_ms() == 0) {
    note_error(fmt::format("replayer consumer failed for good, replacing it: {}", detail));
  } else {
    note_error(fmt::format("replayer consumer failed for good again soon after it was replaced: {}; does another "
                           "agent run with group.instance.id {}? Each would fence the other: give every agent its "
                           "own (the pod name by default). Replacing it in {} s",
                           detail, settings.instance_id, consumer_backoff.wait_ms() / 1000));
  }
  ++counters.consumer_failures;
  if (hooks.consumer_failed) hooks.consumer_failed();
}

// An idempotent producer that hit a fatal error can never send again; its
// messages come back as purged reports and go out through a new one.
void Replayer::Impl::replace_producer() {
  producer_fatal = false;
  rd_kafka_purge(producer.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(producer.get(), 0);
  // Reports the purge did not produce: those messages are sent again.
  const auto now = settings.now_ms();
  for (auto& [id, entry] : in_flight) retry_later(std::move(entry), now);
  in_flight.clear();
  known_topics.clear();
  producer_queue.reset();
  producer.reset();
  producer = make_producer();
}

}  // namespace outflow::agent::replayer
