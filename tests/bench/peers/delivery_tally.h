#pragma once

// The one checker for every relay of `hack/bench.sh peers`: which outbox rows
// reached Kafka, how often, and when the broker first appended each. Rows are
// told apart by the event id every relay copies into the "outflow-event-id"
// header, so a relay that drops or rewrites that header shows up as loss.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace outflow::bench {

// The event id the bench writes for row `index`: a valid UUID that carries the
// index in its last 12 digits ("00000000-0000-4000-8000-000000000042").
std::string event_id_for(std::int64_t index);
// The index back from such an id; nullopt for any other text.
std::optional<std::int64_t> index_of_event_id(std::string_view event_id);

class DeliveryTally {
 public:
  // Rows [0, expected) are measured; ids past that (warm-up rows) are counted apart.
  explicit DeliveryTally(std::size_t expected);

  // One message as read from Kafka: its event id header (nullopt when it has
  // none) and the broker's append time.
  void record(std::optional<std::string_view> event_id, std::int64_t append_ms);

  std::size_t expected() const { return first_append_ms_.size(); }
  std::size_t delivered() const { return delivered_; }  // distinct measured rows seen
  std::size_t lost() const { return expected() - delivered_; }
  // Deliveries of a measured row after its first (at-least-once redelivery).
  std::size_t duplicates() const { return duplicates_; }
  std::size_t warm_up() const { return warm_up_; }
  // Messages whose header is missing or is no id of ours: a relay that
  // does not route the event id (counted as an error, not as rows).
  std::size_t unidentified() const { return unidentified_; }

  // When row `index` was first appended (ms since the epoch), -1 if never.
  std::int64_t first_append_ms(std::size_t index) const { return first_append_ms_.at(index); }
  // Earliest and latest first appends over the measured rows; -1 before any.
  std::int64_t earliest_ms() const { return earliest_ms_; }
  std::int64_t latest_ms() const { return latest_ms_; }

 private:
  std::vector<std::int64_t> first_append_ms_;
  std::size_t delivered_ = 0;
  std::size_t duplicates_ = 0;
  std::size_t warm_up_ = 0;
  std::size_t unidentified_ = 0;
  std::int64_t earliest_ms_ = -1;
  std::int64_t latest_ms_ = -1;
};

}  // namespace outflow::bench
