#pragma once

// The Kafka I/O of `outflow-agent parked`: reading the parked topic up to the
// end it had when the command started, producing replayed copies into tier 1,
// and deleting a prefix of each partition. No consumer group: the command
// assigns partitions itself and commits nothing, so it never disturbs the
// replayer's group and two people running `list` at once do not interfere.

#include "agent/parked/parked.h"
#include "common/kafka/client_config.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace outflow::agent::parked {

// The cluster could not do what was asked (unreachable, unknown topic,
// refused request); the message says which step and why, never a secret.
class KafkaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The cluster answered, and the answer shows the request was wrong (a
// partition the topic does not have): the caller's to fix, exit 1 like any
// bad argument, so a script that retries Kafka errors does not retry a typo.
class ArgumentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Connection {
  kafka::ConnectionSettings kafka;
  // Bound on each request and on a read that makes no progress.
  std::chrono::milliseconds timeout{30000};
};

struct ScanCounts {
  std::int64_t read = 0;     // messages read from the parked topic
  std::int64_t matched = 0;  // of those, selected by the filter
};

// Reads every partition of `topic` (or filter.partition) from its start (or
// filter.from_offset) up to its high watermark at the time of the call, and
// calls `each` for every message the filter selects, partition by partition in
// offset order per partition. Throws KafkaError.
ScanCounts scan(const Connection& connection, const std::string& topic, const Filter& filter,
                const std::function<void(const ParkedMessage&)>& each);

// Throws KafkaError naming the topic when the cluster does not have it.
void require_topic(const Connection& connection, const std::string& topic);

struct DeliveryFailure {
  std::int32_t partition = 0;  // in the parked topic
  std::int64_t offset = 0;
  std::string error;
};

// An idempotent producer (acks=all) into one topic. send() queues; finish()
// waits for every delivery report.
class Producer {
 public:
  Producer(const Connection& connection, std::string topic);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Key and value of `message`, with `headers`; the timestamp is the time of
  // sending, because the tier's delay counts from when a message entered it.
  void send(const ParkedMessage& message, const Headers& headers);
  // Waits up to the connection timeout (plus librdkafka's message timeout);
  // returns the messages that were not acknowledged (empty: all were).
  std::vector<DeliveryFailure> finish();
  std::int64_t acknowledged() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Per partition of `topic` (or only `partition`): the watermarks and the
// first offset whose timestamp is >= before_ms. Throws KafkaError.
std::vector<PurgePlan> purge_plans(const Connection& connection, const std::string& topic, std::int64_t before_ms,
                                   std::optional<std::int32_t> partition);

// DeleteRecords for every plan with something to delete; returns the new low
// watermark per partition. Throws KafkaError listing every partition that failed.
std::map<std::int32_t, std::int64_t> delete_records(const Connection& connection, const std::string& topic,
                                                    const std::vector<PurgePlan>& plans);

}  // namespace outflow::agent::parked
