#pragma once

// Real parts for the agent's tests: an outbox table in a schema of the test's
// own (installed from hack/sql/outbox.sql, as an application would), a Kafka
// topic of its own, and an independent reader that sees what consumers see.

#include "agent/postgres/connection.h"
#include "common/kafka/client_config.h"
#include "common/pipeline/spec.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace outflow::testenv {

class OutboxDb {
 public:
  OutboxDb();  // creates the schema and installs the outbox
  ~OutboxDb();  // drops the schema
  OutboxDb(const OutboxDb&) = delete;
  OutboxDb& operator=(const OutboxDb&) = delete;

  const std::string& schema() const { return schema_; }
  std::string table() const { return schema_ + ".outbox"; }
  pg::Connection& sql() { return *conn_; }

  // Inserts one row and returns its id; event_id is generated.
  std::int64_t insert(const std::optional<std::string>& key, const std::string& payload,
                      const std::optional<std::string>& topic = std::nullopt,
                      const std::optional<std::string>& headers_json = std::nullopt);
  // Inserts `count` rows in one statement: key "k<i % keys>", payload "<i>" padded
  // with dots to `payload_bytes` (never cut).
  void insert_many(int count, int keys, int payload_bytes = 0, int first = 0);

  std::int64_t count(const std::string& where);
  // A new session after the server restarted (the schema stays).
  void reconnect();
  std::int64_t pending() { return count("published_at IS NULL"); }

 private:
  std::unique_ptr<pg::Connection> conn_;
  std::string schema_;
};

// A topic of the test's own on the PLAINTEXT listener.
std::string create_topic(int partitions);
std::string create_topic(const std::string& name, int partitions);

struct Outgoing {
  std::optional<std::string> key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};
// Messages through one producer, all acknowledged (acks=all) before this returns.
void produce(const std::string& topic, const std::vector<Outgoing>& messages);
// One message, acknowledged before this returns.
void produce(const std::string& topic, const std::optional<std::string>& key, const std::string& value,
             const std::vector<std::pair<std::string, std::string>>& headers = {});
kafka::ConnectionSettings plaintext_kafka();

struct Consumed {
  int partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;
  std::map<std::string, std::optional<std::string>> headers;
  std::int64_t timestamp_ms = 0;
};

// How a read of a topic went.
struct TopicRead {
  std::size_t messages = 0;
  bool complete = false;  // it read all it was asked to (not stopped by the timeout)
  double seconds = 0;
};

// An independent read_committed consumer, not the agent's code: reads every
// partition of `topic` from the beginning and hands each message to `each`,
// within a partition (so within a key) in offset order. It stops once
// `expected` messages arrived or, without `expected`, once every partition was
// read to the end offset it had when the read began; at the latest when
// `timeout` passed. Throws std::runtime_error when the topic's metadata or
// offsets cannot be read.
TopicRead read_topic_each(const std::string& topic, std::optional<std::size_t> expected,
                          std::chrono::milliseconds timeout, const std::function<void(const Consumed&)>& each);

// read_topic_each until `expected` messages arrived or `timeout` passed: the
// messages in the order they came.
std::vector<Consumed> read_topic(const std::string& topic, std::size_t expected,
                                 std::chrono::milliseconds timeout);

// Every message the topic holds now (each partition read to the end offset
// it had when the read began), in the order they came. For a read after the
// rows were marked published: marked means acknowledged, so nothing is still
// on its way, and duplicates cannot make the read stop short the way a count
// of messages can. Throws std::runtime_error when the end is not reached
// within `timeout`.
std::vector<Consumed> read_whole_topic(const std::string& topic, std::chrono::milliseconds timeout);

// A spec whose outbox is `table` and whose only topic is `topic` (also the default).
pipeline::PipelineSpec pipeline_for(const std::string& table, const std::string& topic);

}  // namespace outflow::testenv
