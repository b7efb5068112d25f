#include "agent/replayer/replayer.h"

#include "agent/replayer/after_report.h"
#include "agent/replayer/client_properties.h"
#include "agent/replayer/flow.h"
#include "agent/replayer/kafka_glue.h"
#include "agent/replayer/ledger.h"
#include "agent/replayer/move_dedup.h"
#include "agent/replayer/offset_book.h"
#include "agent/replayer/replayer_stats.h"
#include "agent/replayer/routing.h"
#include "agent/replayer/size_limits.h"
#include "agent/replayer/timer_set.h"
#include "common/kafka/admin.h"
#include "common/kafka/handles.h"
#include "common/kafka/producer_settings.h"
#include "common/kafka/record_size.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

namespace outflow::agent::replayer {
namespace {

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Messages served per turn before timers and commits get their turn, so a
// flood of due messages cannot starve resumes and commits.
constexpr int kBatch = 1000;
// The longest poll(2) sleep: stop() wakes the thread at once anyway, this only
// bounds how long a missed wake-up could cost.
constexpr int kMaxSleepMs = 1000;

}  // namespace

std::string group_id_for(const PipelineRef& pipeline) {
  return fmt::format("outflow-{}-{}-replayer", pipeline.namespace_name, pipeline.name);
}

// The adapter: turns librdkafka's events (messages, delivery reports,
// rebalances, commit results) into calls on the pure parts (route, the
// offset book, the timers, the flow gate and commit pacer, the stats) and
// their answers into librdkafka calls. Everything below runs on the replayer's
// thread, except the lifecycle and stats entry points.
struct Replayer::Impl {
  // A consumed message on its way somewhere, or waiting to be sent again.
  struct Outgoing {
    kafka::MessageHandle message;  // the consumed message, kept to send it again
    Route route;
    std::int64_t produced_ms = 0;
    // Permanent refusals of `route` so far: the first is tried once more
    // alone (the broker refuses a whole record batch, so a message may be
    // refused for its neighbours), the second sends something smaller.
    int refusals = 0;
  };

  Impl(ReplayerSettings s, breaker::CircuitBreaker& b, ReplayerHooks h)
      : settings(std::move(s)),
        rules(routing_rules(settings.spec)),
        breaker(b),
        hooks(std::move(h)),
        dlq(settings.spec.dead_letter->topic),
        parked(parked_topic(dlq)),
        gate(static_cast<std::int64_t>(settings.max_in_flight)),
        // Commits as acknowledgements come, a quarter window at a time: the
        // window (what a crash repeats) then holds mostly work in flight.
        pacer(std::max<std::int64_t>(1, static_cast<std::int64_t>(settings.max_in_flight) / 4),
              settings.commit_interval.count()) {
    if (!settings.now_ms) settings.now_ms = system_now_ms;
    if (settings.group_id.empty()) settings.group_id = group_id_for(settings.pipeline);
    for (int tier = 1; tier <= rules.schedule.max_attempts(); ++tier) tiers[retry_tier_topic(dlq, tier)] = tier;
    producer = make_producer();
    consumer = make_consumer();
  }

  ~Impl() { stop(false); }

  // ---- clients ------------------------------------------------------------

  kafka::ClientHandle make_producer() {
    // Republished copies land where a Java producer would put the key, with
    // the same delivery guarantees as the outbox publisher's.
    auto conf = kafka::make_conf(producer_properties(settings));
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &Impl::on_delivery);
    rd_kafka_conf_set_error_cb(conf.get(), &Impl::on_producer_error);
    auto client = kafka::make_client(RD_KAFKA_PRODUCER, std::move(conf));
    producer_queue.reset(rd_kafka_queue_get_main(client.get()));
    attach(producer_queue.get(), wake);
    return client;
  }

  kafka::ClientHandle make_consumer() {
    const auto properties = consumer_properties(settings);
    auto conf = kafka::make_conf(properties);
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_rebalance_cb(conf.get(), &Impl::on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf.get(), &Impl::on_commit);
    rd_kafka_conf_set_error_cb(conf.get(), &Impl::on_consumer_error);
    auto client = kafka::make_client(RD_KAFKA_CONSUMER, std::move(conf));
    // Everything (rebalances, commit results, errors) through one queue,
    // served by rd_kafka_consumer_poll, which is what wakes the thread.
    rd_kafka_poll_set_consumer(client.get());
    consumer_queue.reset(rd_kafka_queue_get_consumer(client.get()));
    attach(consumer_queue.get(), wake);
    return client;
  }

  // ---- lifecycle ----------------------------------------------------------

  void start() {
    std::lock_guard lock(lifecycle_mu);
    if (thread.joinable() || finished) return;
    kafka::PartitionListHandle topics(rd_kafka_topic_partition_list_new(static_cast<int>(tiers.size() + 1)));
    rd_kafka_topic_partition_list_add(topics.get(), dlq.c_str(), RD_KAFKA_PARTITION_UA);
    for (const auto& [name, tier] : tiers) {
      rd_kafka_topic_partition_list_add(topics.get(), name.c_str(), RD_KAFKA_PARTITION_UA);
    }
    if (const auto err = rd_kafka_subscribe(consumer.get(), topics.get())) {
      throw std::runtime_error(fmt::format("replayer: cannot subscribe: {}", rd_kafka_err2str(err)));
    }
    spdlog::info("dead-letter replayer: group {} on {} and {} retry tier(s)", settings.group_id, dlq, tiers.size());
    thread = std::thread([this] { run(); });
  }

  void stop(bool crash) {
    std::lock_guard lock(lifecycle_mu);
    if (finished) return;
    finished = true;
    abandoning = crash;
    stopping = true;
    wake.signal();
    if (thread.joinable()) thread.join();
    if (crash) {
      // What a killed process leaves: nothing queued is sent, no offset is
      // committed, the group is not told.
      if (producer) rd_kafka_purge(producer.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      release_messages();
      consumer_queue.reset();
      producer_queue.reset();
      if (consumer) rd_kafka_destroy_flags(consumer.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
      known_topics.clear();
      producer.reset();
      return;
    }
    if (consumer) {
      // Served here because the thread may never have run (stop before start).
      rd_kafka_consumer_close(consumer.get());
    }
    release_messages();
    consumer_queue.reset();
    producer_queue.reset();
    consumer.reset();
    known_topics.clear();
    producer.reset();
  }

  // Every consumed message still kept. Before the consumer is destroyed:
  // rd_kafka_destroy waits for the messages it handed out (measured: an
  // abandon() with thousands in flight hung in it for good).
  void release_messages() {
    in_flight.clear();
    retrying.clear();
    retry_at.erase_if([](std::uint64_t) { return true; });
    held_messages.clear();
    held_at.erase_if([](const TopicPartition&) { return true; });
  }

  // A producer learns a topic's leader on its first message to it, through a
  // scan that runs once a second: measured, the first republish waited 1 s.
  // Asking for every destination's metadata up front takes that off the
  // first due message. Best effort: a topic that is missing now is looked up
  // the slow way later.
  void warm_up() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (const auto& name : destinations()) {
      kafka::TopicHandle topic(rd_kafka_topic_new(producer.get(), name.c_str(), nullptr));
      if (!topic) continue;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() > 0 && !stopping) {
        const rd_kafka_metadata_t* raw = nullptr;
        if (rd_kafka_metadata(producer.get(), 0, topic.get(), &raw, static_cast<int>(left.count())) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
          kafka::MetadataHandle owned(raw);
          if (owned->topic_cnt == 1 && owned->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            partition_counts[name] = owned->topics[0].partition_cnt;
          }
        }
      }
      known_topics.push_back(std::move(topic));  // kept so the producer keeps the topic's leader
    }
    read_limits();
  }

  std::vector<std::string> destinations() const {
    std::vector<std::string> out(rules.topics.begin(), rules.topics.end());
    for (const auto& [name, tier] : tiers) out.push_back(name);
    out.push_back(parked);
    return out;
  }

  // The effective max.message.bytes of every destination, from the broker,
  // and the producer's own message.max.bytes. At start and after a size
  // refusal (the config may have changed). A failure keeps what was known.
  void read_limits() {
    refresh_limits = false;
    char value[64] = {0};
    std::size_t size = sizeof value;
    if (rd_kafka_conf_get(rd_kafka_conf(producer.get()), "message.max.bytes", value, &size) == RD_KAFKA_CONF_OK) {
      if (const auto n = parse_number(value)) limits.producer_max = *n;
    }
    try {
      for (const auto& [name, topic] : kafka::describe_topics(producer.get(), destinations(), std::chrono::seconds(5))) {
        if (topic.max_message_bytes) limits.topics[name] = *topic.max_message_bytes;
      }
    } catch (const kafka::AdminError& e) {
      note_error(fmt::format("cannot read the size limits of the replayer's topics: {}", e.what()));
    }
  }

  void run() {
    warm_up();
    while (!stopping) {
      wake.drain();
      int served = 0;
      for (; served < kBatch && !stopping; ++served) {
        kafka::MessageHandle message(rd_kafka_consumer_poll(consumer.get(), 0));
        if (!message) break;
        consume(std::move(message));
      }
      rd_kafka_poll(producer.get(), 0);
      if (producer_fatal) replace_producer();
      if (refresh_limits) read_limits();

      const auto now = settings.now_ms();
      fire_timers(now);
      flow_control();
      if (pacer.due(now)) {
        commit(false);
        pacer.committed();
      }
      publish_stats();
      if (served == kBatch) continue;  // more may be queued: no io event comes for them

      // An idle replayer with nothing left to commit sleeps the full turn.
      std::int64_t sleep = kMaxSleepMs;
      if (const auto t = pacer.deadline()) sleep = std::min(sleep, *t - now);
      if (const auto t = held_at.next()) sleep = std::min(sleep, *t - now);
      if (const auto t = retry_at.next()) sleep = std::min(sleep, *t - now);
      if (sleep > 0) wake.wait(static_cast<int>(sleep));
    }
    if (abandoning) return;

    // Stop: nothing new is consumed; what is in flight gets its reports,
    // what they finished is committed; consumer_close (in stop) leaves.
    drain([](const Outgoing&) { return true; });
    commit(true);
    leave_group();
    publish_stats();
  }

  // A static member does not leave the group on close (KIP-345), so its
  // partitions would wait out its session before anyone else reads them; an
  // unsubscribe does leave. Serves the revoke it causes (which commits).
  void leave_group() {
    if (rd_kafka_unsubscribe(consumer.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!offsets.empty() && std::chrono::steady_clock::now() < deadline) {
      kafka::MessageHandle ignored(rd_kafka_consumer_poll(consumer.get(), 100));
    }
  }

  // ---- consuming ----------------------------------------------------------

  void consume(kafka::MessageHandle message) {
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
      note_error(fmt::format("Kafka consumer: {}", rd_kafka_message_errstr(message.get())));
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
  void look_back(const TopicPartition& tp, const rd_kafka_message_t* m) {
    const auto it = dedups.find(tp);
    if (it == dedups.end()) return;
    if (const auto from = last_value(headers_of(m), header::kMovedFrom)) it->second.repeat(*from, m->offset);
  }

  // Whether a tier message is a second copy of a dead letter moved twice.
  bool repeated_move(const TopicPartition& tp, const rd_kafka_message_t* m) {
    const auto it = dedups.find(tp);
    if (it == dedups.end()) return false;
    const auto from = last_value(headers_of(m), header::kMovedFrom);
    return from && it->second.repeat(*from, m->offset);
  }

  int tier_of(const std::string& topic) const {
    const auto it = tiers.find(topic);
    return it == tiers.end() ? 0 : it->second;
  }

  Route decide(const rd_kafka_message_t* m) const {
    rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    const auto timestamp = rd_kafka_message_timestamp(m, &type);
    const Source source{tier_of(rd_kafka_topic_name(m->rkt)),
                        type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : timestamp};
    return route(headers_of(m), source, settings.now_ms(), rules);
  }

  // Decides and acts on a consumed message, or on a held one whose time came.
  // `was_held`: its partition is paused with it as head; resumed once it is
  // on its way.
  void dispatch(kafka::MessageHandle message, bool was_held) {
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

  void hold(const TopicPartition& tp, kafka::MessageHandle message, std::int64_t wake_ms, bool already_paused) {
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

  void resume(const TopicPartition& tp, std::int64_t from) {
    offsets.at(tp).release();
    if (gate.paused()) return;  // flow_control resumes it
    restart(tp, from);
  }

  // Fetching starts again exactly at `from`, whatever librdkafka had fetched
  // or skipped while paused.
  void restart(const TopicPartition& tp, std::int64_t from) {
    auto list = one_partition(tp, from);
    if (from >= 0) {
      if (auto* error = rd_kafka_seek_partitions(consumer.get(), list.get(), 0)) {
        note_error(fmt::format("seek {}[{}] to {}: {}", tp.topic, tp.partition, from, rd_kafka_error_string(error)));
        rd_kafka_error_destroy(error);
      }
    }
    rd_kafka_resume_partitions(consumer.get(), list.get());
  }

  // ---- producing ----------------------------------------------------------

  // Sends `message` as `route` says, or something smaller when it cannot go
  // whole (size_limits.h). False when it was not sent (the breaker refused,
  // or librdkafka's queue did): the caller keeps it and tries later. True
  // also when it was given up: its offset is finished.
  bool produce(kafka::MessageHandle& message, Route route, int refusals = 0) {
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

  static std::vector<kafka::RecordHeader> record_headers(const Headers& headers) {
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
  void give_up(const rd_kafka_message_t* m, const std::string& why) {
    spdlog::error("dead letter {}[{}]@{} given up: it cannot be parked, not even without its value: {}",
                  rd_kafka_topic_name(m->rkt), m->partition, m->offset, why);
    note_error(fmt::format("dead letter {}[{}]@{} given up: {}", rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                           why));
    offsets.finish(source_of(m), m->offset);
    pacer.finished(1, settings.now_ms());
    ++counters.given_up;
    if (hooks.given_up) hooks.given_up(1);
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* report, void* opaque) {
    static_cast<Impl*>(opaque)->delivered(report);
  }

  void delivered(const rd_kafka_message_t* report) {
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
    auto next = after_report({ok, permanent, why}, {entry.route, entry.refusals, entry.message->len},
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
  void retry_later(Outgoing entry, std::int64_t at) {
    const auto id = next_id++;
    retrying.emplace(id, std::move(entry));
    retry_at.schedule(id, at);
  }

  void finished_one(const Outgoing& entry) {
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

  void feed_breaker(bool failed) {
    const auto transition = failed ? breaker.record_failure() : breaker.record_success();
    if (transition) report(*transition);
  }

  void report(const breaker::Transition& t) {
    if (hooks.breaker_transition) hooks.breaker_transition(t);
  }

  static void on_producer_error(rd_kafka_t* client, int code, const char* reason, void* opaque) {
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

  static void on_consumer_error(rd_kafka_t*, int code, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    const auto error = static_cast<rd_kafka_resp_err_t>(code);
    // The consumer retries by itself; the producer's reports are what the
    // breaker goes by, so this is only told.
    if (error == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || error == RD_KAFKA_RESP_ERR__FATAL) {
      self->note_error(fmt::format("Kafka consumer: {}", reason ? reason : rd_kafka_err2str(error)));
    } else {
      spdlog::debug("replayer consumer: {}", reason ? reason : rd_kafka_err2str(error));
    }
  }

  // An idempotent producer that hit a fatal error can never send again; its
  // messages come back as purged reports and go out through a new one.
  void replace_producer() {
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

  // ---- timers -------------------------------------------------------------

  void fire_timers(std::int64_t now) {
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
  void flow_control() {
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

  // ---- offsets ------------------------------------------------------------

  void commit(bool sync, const std::set<TopicPartition>* only = nullptr) {
    const auto positions = offsets.committable(only);
    if (positions.empty()) return;
    if (const auto error = commit_positions(consumer.get(), positions, sync); error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      note_error(fmt::format("commit failed: {}", rd_kafka_err2str(error)));
      return;
    }
    // An asynchronous result comes through on_commit.
    offsets.sent(positions, sync);
  }

  static void on_commit(rd_kafka_t*, rd_kafka_resp_err_t error, rd_kafka_topic_partition_list_t* offsets,
                        void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (error == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) self->note_error(fmt::format("commit failed: {}", rd_kafka_err2str(error)));
    if (offsets == nullptr) return;
    for (int i = 0; i < offsets->cnt; ++i) {
      const auto& p = offsets->elems[i];
      const bool ok = error == RD_KAFKA_RESP_ERR_NO_ERROR && p.err == RD_KAFKA_RESP_ERR_NO_ERROR;
      if (self->offsets.answered({{p.topic, p.partition}, p.offset}, ok)) {
        self->pacer.finished(1, self->settings.now_ms());  // so the pacer asks again
      }
    }
  }

  // ---- rebalancing --------------------------------------------------------

  static void on_rebalance(rd_kafka_t* client, rd_kafka_resp_err_t error, rd_kafka_topic_partition_list_t* partitions,
                           void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      self->assign(client, partitions);
      // librdkafka keeps an application pause across unassign and assign: a
      // partition this replica held when it was revoked would come back
      // paused for good (found by the mid-stream join test). A new
      // assignment starts with nothing held, so nothing paused.
      rd_kafka_resume_partitions(client, partitions);
      self->gate.reset();
      spdlog::info("dead-letter replayer: assigned {} partition(s)", partitions->cnt);
      return;
    }
    // Revoked (or an error, treated the same): finish what is in flight from
    // these partitions and commit it, so the next owner repeats as little as
    // possible; then let go.
    std::set<TopicPartition> revoked;
    for (int i = 0; i < partitions->cnt; ++i) revoked.insert({partitions->elems[i].topic, partitions->elems[i].partition});
    const auto from_revoked = [&](const Outgoing& o) { return revoked.contains(source_of(o.message.get())); };
    if (!self->abandoning) {
      self->drain(from_revoked);
      self->commit(true, &revoked);
    }
    for (const auto& tp : revoked) {
      self->held_messages.erase(tp);
      self->held_at.cancel(tp);
      self->offsets.revoke(tp);
      self->dedups.erase(tp);
    }
    self->retry_at.erase_if([&](std::uint64_t id) { return from_revoked(self->retrying.at(id)); });
    std::erase_if(self->retrying, [&](const auto& entry) { return from_revoked(entry.second); });
    std::erase_if(self->in_flight, [&](const auto& entry) { return from_revoked(entry.second); });
    rd_kafka_assign(client, nullptr);
    spdlog::info("dead-letter replayer: released {} partition(s)", partitions->cnt);
  }

  // Starts every assigned partition at the group's committed offset, except
  // that a tier partition starts `lookback` offsets earlier: those are read
  // only to remember which dead letters they hold (a crashed replica's moves
  // that its successor repeats). Without the committed offsets (the request
  // failed) there is no look-back, and a repeat may go out twice.
  void assign(rd_kafka_t* client, rd_kafka_topic_partition_list_t* partitions) {
    kafka::PartitionListHandle committed(rd_kafka_topic_partition_list_copy(partitions));
    const bool known = rd_kafka_committed(client, committed.get(), 10000) == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!known) note_error("cannot read the group's committed offsets; a dead letter moved twice may be republished twice");
    const auto lookback = 3 * static_cast<std::int64_t>(settings.max_in_flight);
    for (int i = 0; i < partitions->cnt; ++i) {
      auto& p = partitions->elems[i];
      const TopicPartition tp{p.topic, p.partition};
      std::optional<std::int64_t> start;
      if (known) {
        const auto* c = rd_kafka_topic_partition_list_find(committed.get(), p.topic, p.partition);
        if (c && c->err == RD_KAFKA_RESP_ERR_NO_ERROR && c->offset >= 0) start = c->offset;
      }
      offsets.assign(tp, start);
      if (tier_of(tp.topic) == 0) continue;
      dedups.insert_or_assign(tp, MoveDedup(lookback));
      if (start) p.offset = look_back_start(*start, lookback);
    }
    rd_kafka_assign(client, partitions);
  }

  // Serves delivery reports until none of the matching messages is in
  // flight, or drain_timeout passed.
  template <typename Match>
  void drain(Match match) {
    const auto deadline = std::chrono::steady_clock::now() + settings.drain_timeout;
    auto waiting = [&] {
      return std::any_of(in_flight.begin(), in_flight.end(), [&](const auto& e) { return match(e.second); });
    };
    while (waiting() && std::chrono::steady_clock::now() < deadline) rd_kafka_poll(producer.get(), 100);
    if (waiting()) note_error("deliveries still in flight after the drain timeout; they will be repeated");
  }

  // ---- status -------------------------------------------------------------

  void note_error(std::string message) {
    spdlog::warn("{}", message);
    board.note_error(std::move(message));
  }

  void publish_stats() { board.publish(stats_of(counters, offsets, gate.paused())); }

  ReplayerSettings settings;
  RoutingRules rules;
  breaker::CircuitBreaker& breaker;
  ReplayerHooks hooks;
  std::string dlq;
  std::string parked;
  std::map<std::string, int> tiers;  // tier topic -> tier

  // Declared before the clients so it is closed after them: librdkafka may
  // write to it until they are gone.
  EventFd wake;
  kafka::ClientHandle producer;
  kafka::ClientHandle consumer;
  // Released before the clients they belong to.
  kafka::QueueHandle producer_queue;
  kafka::QueueHandle consumer_queue;
  std::vector<kafka::TopicHandle> known_topics;  // producer's topics, released before it

  std::mutex lifecycle_mu;
  std::thread thread;
  bool finished = false;
  std::atomic<bool> stopping{false};
  std::atomic<bool> abandoning{false};

  // Thread-owned state.
  OffsetBook offsets;
  std::map<TopicPartition, MoveDedup> dedups;      // per tier partition
  std::map<std::string, int> partition_counts;     // of the tier topics, from warm_up
  std::map<TopicPartition, kafka::MessageHandle> held_messages;  // the heads of held partitions
  TimerSet<TopicPartition> held_at;
  std::unordered_map<std::uint64_t, Outgoing> in_flight;  // by the id its delivery report carries
  std::map<std::uint64_t, Outgoing> retrying;
  TimerSet<std::uint64_t> retry_at;
  FlowGate gate;
  CommitPacer pacer;
  std::uint64_t next_id = 1;
  bool producer_fatal = false;
  ReplayerCounters counters;
  SizeLimits limits;
  bool refresh_limits = false;

  StatsBoard board;
};

Replayer::Replayer(ReplayerSettings settings, breaker::CircuitBreaker& breaker, ReplayerHooks hooks)
    : impl_(std::make_unique<Impl>(std::move(settings), breaker, std::move(hooks))) {}

Replayer::~Replayer() = default;

void Replayer::start() { impl_->start(); }
void Replayer::stop() { impl_->stop(false); }
void Replayer::abandon() { impl_->stop(true); }
ReplayerStats Replayer::stats() const { return impl_->board.snapshot(); }

}  // namespace outflow::agent::replayer
