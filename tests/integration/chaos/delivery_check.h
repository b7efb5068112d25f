#pragma once

// The chaos suite's judge, pure logic: what the concurrent writer committed
// (and rolled back), checked against every message an independent consumer
// read, in the order it read them per partition.
//
// A row is named by its payload "c<connection>:<sequence>"; its event id
// travels in the header the agent sets (outflow-event-id) and must be the one
// PostgreSQL gave the row. Order is checked for keys only one connection
// writes: their rows were committed one after another, so the first delivery
// of each must follow the writer's sequence (the agent's contract: first
// deliveries follow id order among committed rows). Keys several connections
// share are checked for presence only.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace outflow::chaos {

enum class Outcome : std::uint8_t {
  Pending,     // written, outcome not recorded yet
  Committed,
  RolledBack,  // rolled back on purpose, or never committed (the session died first)
};

// What one connection wrote, indexed by its sequence number.
struct WrittenRow {
  std::array<char, 36> event_id{};  // as PostgreSQL prints a uuid; zeros when unknown
  Outcome outcome = Outcome::Pending;
  bool shared_key = false;  // written by several connections: no order check
};

std::array<char, 36> event_id_of(std::string_view text);
std::string payload_of(int connection, std::int64_t sequence);

struct Verdict {
  std::size_t committed = 0;
  std::size_t rolled_back = 0;
  std::size_t messages = 0;            // every message read
  std::size_t delivered = 0;           // distinct committed rows seen
  std::size_t duplicates = 0;          // repeats of rows already seen
  std::size_t lost = 0;                // committed, never seen
  std::size_t rolled_back_seen = 0;    // must be 0
  std::size_t unknown = 0;             // payloads the writer never wrote
  std::size_t wrong_event_id = 0;      // header missing or not the row's
  std::size_t order_violations = 0;    // a first delivery behind a later row of its key
  std::vector<std::string> examples;   // the first few problems, for the failure message
  bool clean() const {
    return lost == 0 && rolled_back_seen == 0 && unknown == 0 && wrong_event_id == 0 && order_violations == 0;
  }
};

class DeliveryCheck {
 public:
  // rows[c][s]: what connection c wrote as its sequence s.
  explicit DeliveryCheck(std::vector<std::vector<WrittenRow>> rows);

  // One consumed message; a key's messages must come in partition offset order.
  void see(const std::optional<std::string>& key, std::string_view value,
           const std::optional<std::string>& event_id_header);
  // Committed rows not seen yet.
  std::size_t missing() const { return committed_ - delivered_; }
  Verdict verdict() const;

 private:
  void problem(std::size_t& counter, std::string text);

  std::vector<std::vector<WrittenRow>> rows_;
  std::vector<std::vector<std::uint16_t>> seen_;  // deliveries per row
  std::unordered_map<std::string, std::int64_t> last_first_delivery_;  // key -> sequence
  std::size_t committed_ = 0;
  std::size_t rolled_back_ = 0;
  std::size_t delivered_ = 0;
  Verdict v_;
};

// The most duplicates a run may show. The agent marks a row only after Kafka
// acknowledged it. While draining it keeps up to DrainSettings::max_batches
// batches in flight and marks one settled group at a time, so at any moment a
// replica holds at most max_batches + 1 batches of rows that may have reached
// the broker without being marked. One fault (a replica killed, the broker
// killed, PostgreSQL restarted: sessions and bucket locks gone) can make at
// most that much of every replica be sent again:
// batchSize x (max_batches + 1) x replicas per fault.
std::size_t duplicate_bound(int batch_size, int replicas, int faults);

}  // namespace outflow::chaos
