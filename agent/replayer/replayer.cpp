// The replayer: its clients, lifecycle and loop. The rest of the adapter is
// split by concern: replayer_consume.cpp (reading, holding, timers, flow
// control), replayer_produce.cpp (sending, delivery reports, the breaker) and
// replayer_offsets.cpp (commits and rebalances); replayer_impl.h has its state.

#include "agent/replayer/replayer_impl.h"

#include "agent/replayer/client_properties.h"
#include "common/kafka/admin.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

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

Replayer::Impl::Impl(ReplayerSettings s, breaker::CircuitBreaker& b, ReplayerHooks h)
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

kafka::ClientHandle Replayer::Impl::make_producer() {
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

kafka::ClientHandle Replayer::Impl::make_consumer() {
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

// To the dead-letter topic and every retry tier. Throws std::runtime_error
// when librdkafka refuses the subscription.
void Replayer::Impl::subscribe() {
  kafka::PartitionListHandle topics(rd_kafka_topic_partition_list_new(static_cast<int>(tiers.size() + 1)));
  rd_kafka_topic_partition_list_add(topics.get(), dlq.c_str(), RD_KAFKA_PARTITION_UA);
  for (const auto& [name, tier] : tiers) {
    rd_kafka_topic_partition_list_add(topics.get(), name.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (const auto err = rd_kafka_subscribe(consumer.get(), topics.get())) {
    throw std::runtime_error(fmt::format("replayer: cannot subscribe: {}", rd_kafka_err2str(err)));
  }
}

// A consumer that failed for good (fenced) reads nothing more and can commit
// nothing. Its partitions go as a lost assignment does: nothing committed,
// everything kept from them dropped, so their next owner (most likely the
// new consumer) repeats it from the last commit; at least once, never lost.
// The new consumer joins under the same group.instance.id, which takes the
// place back from whoever fenced this one.
void Replayer::Impl::forget_consumer_state() {
  std::set<TopicPartition> owned;
  for (const auto& [tp, ledger] : offsets.ledgers()) owned.insert(tp);
  forget(owned);
  // Every message still kept came from this consumer, whose destroy would
  // wait for it; forget() left none, this makes sure.
  release_messages();
}

void Replayer::Impl::replace_consumer() {
  consumer_fatal = false;
  forget_consumer_state();
  consumer_backoff.replaced(settings.now_ms());
  consumer_queue.reset();
  // Not closed: a close would serve a revoke, and nothing may be committed.
  rd_kafka_destroy_flags(consumer.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  consumer = make_consumer();
  try {
    subscribe();
  } catch (const std::runtime_error& e) {
    // Not on a consumer made a moment ago from settings that worked before;
    // if it happens, the next turn tries a new one again.
    note_error(e.what());
    consumer_fatal = true;
    replace_consumer_at = consumer_backoff.replace_at(settings.now_ms());
    return;
  }
  spdlog::warn("dead-letter replayer: a new consumer replaced the one that failed, in group {}", settings.group_id);
}

void Replayer::Impl::start() {
  std::lock_guard lock(lifecycle_mu);
  if (thread.joinable() || finished) return;
  subscribe();
  spdlog::info("dead-letter replayer: group {} on {} and {} retry tier(s)", settings.group_id, dlq, tiers.size());
  thread = std::thread([this] { run(); });
}

void Replayer::Impl::stop(bool crash) {
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
void Replayer::Impl::release_messages() {
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
void Replayer::Impl::warm_up() {
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

std::vector<std::string> Replayer::Impl::destinations() const {
  std::vector<std::string> out(rules.topics.begin(), rules.topics.end());
  for (const auto& [name, tier] : tiers) out.push_back(name);
  out.push_back(parked);
  return out;
}

// The effective max.message.bytes of every destination, from the broker,
// and the producer's own message.max.bytes. At start and after a size
// refusal (the config may have changed). A failure keeps what was known.
void Replayer::Impl::read_limits() {
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

void Replayer::Impl::run() {
  warm_up();
  while (!stopping) {
    wake.drain();
    int served = 0;
    for (; served < kBatch && !stopping && !consumer_fatal; ++served) {
      kafka::MessageHandle message(rd_kafka_consumer_poll(consumer.get(), 0));
      if (!message) break;
      consume(std::move(message));
    }
    if (consumer_fatal) {
      // What it held goes at once, even while a replacement waits out its
      // back-off: nothing of a fenced consumer's is sent on or committed.
      forget_consumer_state();
      if (settings.now_ms() >= replace_consumer_at) replace_consumer();
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
    if (consumer_fatal) sleep = std::min(sleep, replace_consumer_at - now);
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
void Replayer::Impl::leave_group() {
  if (rd_kafka_unsubscribe(consumer.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!offsets.empty() && std::chrono::steady_clock::now() < deadline) {
    kafka::MessageHandle ignored(rd_kafka_consumer_poll(consumer.get(), 100));
  }
}

void Replayer::Impl::note_error(std::string message) {
  spdlog::warn("{}", message);
  board.note_error(std::move(message));
}

Replayer::Replayer(ReplayerSettings settings, breaker::CircuitBreaker& breaker, ReplayerHooks hooks)
    : impl_(std::make_unique<Impl>(std::move(settings), breaker, std::move(hooks))) {}

Replayer::~Replayer() = default;

void Replayer::start() { impl_->start(); }
void Replayer::stop() { impl_->stop(false); }
void Replayer::abandon() { impl_->stop(true); }
ReplayerStats Replayer::stats() const { return impl_->board.snapshot(); }

}  // namespace outflow::agent::replayer
