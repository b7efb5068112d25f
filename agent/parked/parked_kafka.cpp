#include "agent/parked/parked_kafka.h"

#include "common/kafka/admin.h"
#include "common/kafka/handles.h"

#include <fmt/format.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <mutex>
#include <thread>

#include <unistd.h>

namespace outflow::agent::parked {

namespace {

using Clock = std::chrono::steady_clock;

int to_ms(std::chrono::milliseconds timeout) {
  return static_cast<int>(std::min<std::int64_t>(std::max<std::int64_t>(timeout.count(), 1), INT_MAX / 2));
}

// librdkafka reports the actual cause of a failure (authentication refused,
// TLS handshake, connection refused) only to the error callback, while the
// call that failed says "timed out". The last such error goes into the
// KafkaError message so the one line a person sees names the real cause.
struct ErrorNote {
  std::mutex mu;
  std::string last;
  static void on_error(rd_kafka_t*, int code, const char* reason, void* opaque) {
    auto* self = static_cast<ErrorNote*>(opaque);
    std::lock_guard lock(self->mu);
    self->last = reason ? reason : rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(code));
  }
  std::string suffix() {
    std::lock_guard lock(mu);
    return last.empty() ? std::string() : fmt::format(" (last client error: {})", last);
  }
};

// A client and the note its callbacks write to; the client goes first
// (members are destroyed in reverse), so no callback sees a dead note.
struct Client {
  std::unique_ptr<ErrorNote> note = std::make_unique<ErrorNote>();
  kafka::ClientHandle handle;
  rd_kafka_t* get() const { return handle.get(); }
};

Client make_reader(const Connection& c) {
  auto properties = kafka::client_properties(c.kafka);
  const std::vector<kafka::Property> extra = {
      // librdkafka 2.0 refuses rd_kafka_assign() without a group.id
      // ("Unknown group"). A name of its own per run: it is never joined
      // (assign, not subscribe) and nothing is committed under it, so the
      // broker keeps no trace of it and the replayer's group is untouched.
      {"group.id", fmt::format("outflow-parked-cli-{}-{}", ::getpid(), Clock::now().time_since_epoch().count())},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      // The end of a partition is how a read that cannot reach the high
      // watermark (aborted transactions, compacted tails) still finishes.
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
      // Looking up a missing parked or tier topic must not create it.
      {"allow.auto.create.topics", "false"},
      {"socket.timeout.ms", std::to_string(std::max<std::int64_t>(c.timeout.count(), 10))},
  };
  properties.insert(properties.end(), extra.begin(), extra.end());
  Client client;
  auto conf = kafka::make_conf(properties);
  rd_kafka_conf_set_opaque(conf.get(), client.note.get());
  rd_kafka_conf_set_error_cb(conf.get(), &ErrorNote::on_error);
  client.handle = kafka::make_client(RD_KAFKA_CONSUMER, std::move(conf));
  return client;
}

int partition_count(Client& client, const std::string& topic, std::chrono::milliseconds timeout) {
  std::optional<kafka::TopicLayout> layout;
  try {
    layout = kafka::describe_topic_layout(client.get(), topic, timeout);
  } catch (const kafka::AdminError& e) {
    throw KafkaError(fmt::format("cannot look up topic {}: {}{}", topic, e.what(), client.note->suffix()));
  }
  if (!layout) {
    throw KafkaError(fmt::format("topic {} does not exist (the operator creates it for a pipeline with "
                                 "deadLetter; is the pipeline Ready?)",
                                 topic));
  }
  return layout->partitions;
}

std::pair<std::int64_t, std::int64_t> watermarks(Client& client, const std::string& topic, std::int32_t partition,
                                                 std::chrono::milliseconds timeout) {
  std::int64_t low = 0;
  std::int64_t high = 0;
  if (const auto err = rd_kafka_query_watermark_offsets(client.get(), topic.c_str(), partition, &low, &high,
                                                        to_ms(timeout))) {
    throw KafkaError(fmt::format("cannot read the offsets of {}[{}]: {}{}", topic, partition, rd_kafka_err2str(err),
                                 client.note->suffix()));
  }
  return {low, high};
}

std::vector<std::int32_t> partitions_of(Client& client, const std::string& topic, std::optional<std::int32_t> only,
                                        std::chrono::milliseconds timeout) {
  const int count = partition_count(client, topic, timeout);
  if (only) {
    if (*only < 0 || *only >= count) {
      throw ArgumentError(fmt::format("--partition: topic {} has no partition {} (it has {})", topic, *only, count));
    }
    return {*only};
  }
  std::vector<std::int32_t> out;
  for (int p = 0; p < count; ++p) out.push_back(p);
  return out;
}

ParkedMessage to_parked(const rd_kafka_message_t* m) {
  ParkedMessage out;
  out.partition = m->partition;
  out.offset = m->offset;
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  out.timestamp_ms = rd_kafka_message_timestamp(m, &type);
  if (type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) out.timestamp_ms = -1;
  if (m->key) out.key = std::string(static_cast<const char*>(m->key), m->key_len);
  if (m->payload) out.value = std::string(static_cast<const char*>(m->payload), m->len);
  rd_kafka_headers_t* raw = nullptr;
  // Borrowed: the message keeps ownership.
  if (rd_kafka_message_headers(m, &raw) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    for (std::size_t i = 0; rd_kafka_header_get_all(raw, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      out.headers.push_back(
          {name, value ? std::optional<std::string>(std::string(static_cast<const char*>(value), size)) : std::nullopt});
    }
  }
  return out;
}

}  // namespace

void require_topic(const Connection& connection, const std::string& topic) {
  auto client = make_reader(connection);
  partition_count(client, topic, connection.timeout);
}

ScanCounts scan(const Connection& connection, const std::string& topic, const Filter& filter,
                const std::function<void(const ParkedMessage&)>& each) {
  auto client = make_reader(connection);
  const auto partitions = partitions_of(client, topic, filter.partition, connection.timeout);

  // The end of each partition as it is now: messages parked while the command
  // runs are left for the next run, so a replay that parks again (a topic
  // still failing) cannot feed itself forever.
  std::map<std::int32_t, std::int64_t> end;
  kafka::PartitionListHandle assignment(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto p : partitions) {
    const auto [low, high] = watermarks(client, topic, p, connection.timeout);
    const auto start = std::max(low, filter.from_offset.value_or(0));
    if (start >= high) continue;
    end[p] = high;
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = start;
  }
  ScanCounts counts;
  if (end.empty()) return counts;
  if (const auto err = rd_kafka_assign(client.get(), assignment.get())) {
    throw KafkaError(fmt::format("cannot read {}: {}", topic, rd_kafka_err2str(err)));
  }
  auto last_progress = Clock::now();
  while (!end.empty()) {
    kafka::MessageHandle m(rd_kafka_consumer_poll(client.get(), 200));
    if (!m) {
      if (Clock::now() - last_progress > connection.timeout) {
        throw KafkaError(fmt::format("reading {} made no progress for {} ms{}", topic, connection.timeout.count(),
                                     client.note->suffix()));
      }
      continue;
    }
    last_progress = Clock::now();
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      end.erase(m->partition);
      continue;
    }
    if (m->err) {
      throw KafkaError(fmt::format("cannot read {}[{}]: {}", topic, m->partition, rd_kafka_message_errstr(m.get())));
    }
    const auto it = end.find(m->partition);
    if (it == end.end() || m->offset >= it->second) continue;  // parked after the start: next run
    ++counts.read;
    const auto message = to_parked(m.get());
    if (matches(filter, message)) {
      ++counts.matched;
      each(message);
    }
    if (m->offset + 1 >= it->second) end.erase(it);
  }
  rd_kafka_assign(client.get(), nullptr);
  return counts;
}

// ---- Producer -------------------------------------------------------------

struct Producer::State {
  std::string topic;
  std::chrono::milliseconds timeout;
  // Parked offsets by message index: the delivery report carries the index
  // as its opaque, so a failure names the parked message it belongs to.
  std::vector<std::pair<std::int32_t, std::int64_t>> sources;
  std::mutex mu;
  std::vector<DeliveryFailure> failures;
  std::atomic<std::int64_t> acknowledged{0};
  std::atomic<std::int64_t> outstanding{0};
  ErrorNote note;
  kafka::ClientHandle client;  // last: destroyed first, before what its callbacks touch

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* report, void* opaque) {
    auto* self = static_cast<State*>(opaque);
    const auto index = reinterpret_cast<std::uintptr_t>(report->_private);
    if (report->err) {
      std::lock_guard lock(self->mu);
      const auto& [partition, offset] = self->sources.at(index);
      self->failures.push_back({partition, offset, rd_kafka_err2str(report->err)});
    } else {
      ++self->acknowledged;
    }
    --self->outstanding;
  }
};

Producer::Producer(const Connection& connection, std::string topic) : state_(std::make_unique<State>()) {
  state_->topic = std::move(topic);
  state_->timeout = connection.timeout;
  auto properties = kafka::client_properties(connection.kafka);
  const std::vector<kafka::Property> extra = {
      // acks=all and no duplicates from the producer's own retries: a replay
      // that reports success put each copy in tier 1 exactly once.
      {"enable.idempotence", "true"},
      // Where the replayer (and a Java producer) would put the key.
      {"partitioner", "murmur2_random"},
      {"linger.ms", "5"},
      // A replay into a missing tier fails; it never creates the topic.
      {"allow.auto.create.topics", "false"},
      {"message.timeout.ms", std::to_string(std::max<std::int64_t>(connection.timeout.count(), 1000))},
  };
  properties.insert(properties.end(), extra.begin(), extra.end());
  auto conf = kafka::make_conf(properties);
  rd_kafka_conf_set_opaque(conf.get(), state_.get());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &State::on_delivery);
  rd_kafka_conf_set_error_cb(conf.get(), [](rd_kafka_t* rk, int code, const char* reason, void* opaque) {
    ErrorNote::on_error(rk, code, reason, &static_cast<State*>(opaque)->note);
  });
  state_->client = kafka::make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

Producer::~Producer() {
  // Nothing may be sent after the command reported its counts.
  if (state_->client) rd_kafka_purge(state_->client.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
}

void Producer::send(const ParkedMessage& message, const Headers& headers) {
  kafka::HeadersHandle h(rd_kafka_headers_new(headers.size()));
  for (const auto& header : headers) {
    rd_kafka_header_add(h.get(), header.name.data(), static_cast<ssize_t>(header.name.size()),
                        header.value ? header.value->data() : nullptr,
                        header.value ? static_cast<ssize_t>(header.value->size()) : 0);
  }
  std::uintptr_t index = 0;
  {
    std::lock_guard lock(state_->mu);
    index = state_->sources.size();
    state_->sources.emplace_back(message.partition, message.offset);
  }
  const void* key = message.key ? message.key->data() : nullptr;
  const std::size_t key_size = message.key ? message.key->size() : 0;
  // librdkafka copies (F_COPY) and never writes through the value pointer.
  void* value = message.value ? const_cast<char*>(message.value->data()) : nullptr;
  const std::size_t value_size = message.value ? message.value->size() : 0;
  const auto deadline = Clock::now() + state_->timeout;
  for (;;) {
    const auto err = rd_kafka_producev(
        state_->client.get(), RD_KAFKA_V_TOPIC(state_->topic.c_str()), RD_KAFKA_V_KEY(key, key_size),
        RD_KAFKA_V_VALUE(value, value_size), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h.get()),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(index)), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    // A full local queue drains as reports come in; anything else is final.
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || Clock::now() > deadline) {
      throw KafkaError(fmt::format("cannot send parked message {}@{} to {}: {}{}", message.partition, message.offset,
                                   state_->topic, rd_kafka_err2str(err), state_->note.suffix()));
    }
    rd_kafka_poll(state_->client.get(), 100);
  }
  (void)h.release();  // producev took ownership of the headers
  ++state_->outstanding;
  rd_kafka_poll(state_->client.get(), 0);
}

std::vector<DeliveryFailure> Producer::finish() {
  // message.timeout.ms bounds every message, so flush returns once each has
  // a report; the margin covers the last batch's round trip.
  rd_kafka_flush(state_->client.get(), to_ms(state_->timeout + std::chrono::seconds(5)));
  std::lock_guard lock(state_->mu);
  auto failures = state_->failures;
  if (state_->outstanding > 0) {
    failures.push_back({-1, -1,
                        fmt::format("{} message(s) without a delivery report{}", state_->outstanding.load(),
                                    state_->note.suffix())});
  }
  return failures;
}

std::int64_t Producer::acknowledged() const { return state_->acknowledged; }

// ---- purge ----------------------------------------------------------------

std::vector<PurgePlan> purge_plans(const Connection& connection, const std::string& topic, std::int64_t before_ms,
                                   std::optional<std::int32_t> partition) {
  auto client = make_reader(connection);
  const auto partitions = partitions_of(client, topic, partition, connection.timeout);
  kafka::PartitionListHandle query(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto p : partitions) rd_kafka_topic_partition_list_add(query.get(), topic.c_str(), p)->offset = before_ms;
  if (const auto err = rd_kafka_offsets_for_times(client.get(), query.get(), to_ms(connection.timeout))) {
    throw KafkaError(fmt::format("cannot look up offsets by time in {}: {}{}", topic, rd_kafka_err2str(err),
                                 client.note->suffix()));
  }
  std::vector<PurgePlan> plans;
  for (int i = 0; i < query->cnt; ++i) {
    const auto& e = query->elems[i];
    if (e.err) {
      throw KafkaError(fmt::format("cannot look up offsets by time in {}[{}]: {}", topic, e.partition,
                                   rd_kafka_err2str(e.err)));
    }
    const auto [low, high] = watermarks(client, topic, e.partition, connection.timeout);
    plans.push_back(plan_purge(e.partition, low, high, e.offset));
  }
  return plans;
}

std::map<std::int32_t, std::int64_t> delete_records(const Connection& connection, const std::string& topic,
                                                    const std::vector<PurgePlan>& plans) {
  std::map<std::int32_t, std::int64_t> out;
  kafka::PartitionListHandle offsets(rd_kafka_topic_partition_list_new(static_cast<int>(plans.size())));
  for (const auto& plan : plans) {
    if (plan.count() > 0) rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), plan.partition)->offset = plan.target;
  }
  if (offsets->cnt == 0) return out;
  auto client = make_reader(connection);
  kafka::DeleteRecordsHandle request(rd_kafka_DeleteRecords_new(offsets.get()));
  kafka::AdminOptionsHandle options(rd_kafka_AdminOptions_new(client.get(), RD_KAFKA_ADMIN_OP_DELETERECORDS));
  char detail[256] = "";
  const int timeout_ms = to_ms(connection.timeout);
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, detail, sizeof detail) ||
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, detail, sizeof detail)) {
    throw KafkaError(fmt::format("DeleteRecords options: {}", detail));
  }
  kafka::QueueHandle queue(rd_kafka_queue_new(client.get()));
  rd_kafka_DeleteRecords_t* requests[] = {request.get()};
  rd_kafka_DeleteRecords(client.get(), requests, 1, options.get(), queue.get());
  kafka::EventHandle event(rd_kafka_queue_poll(queue.get(), timeout_ms + 5000));
  if (!event) throw KafkaError(fmt::format("DeleteRecords on {} timed out{}", topic, client.note->suffix()));
  if (const auto err = rd_kafka_event_error(event.get())) {
    throw KafkaError(fmt::format("DeleteRecords on {} failed: {}{}", topic, rd_kafka_event_error_string(event.get()),
                                 err == RD_KAFKA_RESP_ERR__TIMED_OUT ? client.note->suffix() : std::string()));
  }
  const auto* result = rd_kafka_event_DeleteRecords_result(event.get());
  const auto* deleted = result ? rd_kafka_DeleteRecords_result_offsets(result) : nullptr;
  if (!deleted) throw KafkaError(fmt::format("DeleteRecords on {}: no result", topic));
  std::string failures;
  for (int i = 0; i < deleted->cnt; ++i) {
    const auto& e = deleted->elems[i];
    if (e.err) {
      failures += fmt::format("{}{}[{}]: {}", failures.empty() ? "" : "; ", topic, e.partition, rd_kafka_err2str(e.err));
    } else {
      out[e.partition] = e.offset;
    }
  }
  if (!failures.empty()) throw KafkaError("DeleteRecords failed for " + failures);
  return out;
}

}  // namespace outflow::agent::parked
