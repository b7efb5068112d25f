#pragma once

// The demo's verifier, as a pure function: given the outbox rows the
// application committed and the messages a consumer read back, how many events
// were lost, delivered twice, or delivered out of their key's order. This is
// the ordering contract of the README, checked rather than asserted in prose.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace outflow::demo {

// One committed outbox row.
struct ExpectedEvent {
  std::int64_t id = 0;     // outbox id: the order the rows of a key must keep
  std::string event_id;    // what reaches Kafka as header outflow-event-id
  std::string key;
};

// One message read back from the topic.
struct SeenMessage {
  int partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> event_id;  // header outflow-event-id
  // Carries outflow-attempt: a dead letter the replayer sent back, which is
  // the dead-letter contract at work, not an outbox redelivery.
  bool republished = false;
};

struct DeliveryReport {
  std::size_t events = 0;            // committed rows checked
  std::size_t delivered = 0;         // of them, seen at least once
  std::size_t duplicates = 0;        // deliveries beyond each event's first
  std::size_t lost = 0;              // committed, never seen
  std::size_t out_of_key_order = 0;  // first deliveries behind a later row of their key
  std::size_t republished = 0;       // dead letters sent back (not counted above)
  std::size_t foreign = 0;           // messages of no row checked here (earlier runs)

  bool ok() const { return lost == 0 && out_of_key_order == 0; }
};

// Messages may come in any interleaving of partitions; within a partition
// they must be in offset order (a key lives in one partition).
DeliveryReport check_delivery(const std::vector<ExpectedEvent>& expected, const std::vector<SeenMessage>& seen);

// One line for a person: "1200 events: 1200 delivered, 3 duplicates, 0 lost, 0 out of key order".
std::string describe(const DeliveryReport& report);

// Parses the expected rows from `psql -At -F' '` output of
// `SELECT id, event_id, key ...`: one "id event_id key" per line. Throws
// std::invalid_argument naming the line that is not of that shape.
std::vector<ExpectedEvent> parse_expected(const std::string& text);

}  // namespace outflow::demo
