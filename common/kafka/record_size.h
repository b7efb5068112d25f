#pragma once

// Pure: how big one record is in the broker's eyes. Kafka checks a topic's
// max.message.bytes against a whole record batch (v2 format, as the producer
// sent it; Outflow's producers do not compress), so a record that must go on
// its own is measured as a record batch holding it alone. Shared by the
// outbox publisher and the dead-letter replayer, which both check sizes
// before sending.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace outflow::kafka {

// One record header; nullopt is a null value.
using RecordHeader = std::pair<std::string, std::optional<std::string>>;

// Upper bound of the size of a v2 record batch holding just this record:
// the 61-byte batch header plus the record with every varint at its widest.
std::int64_t single_record_batch_bytes(const std::optional<std::string>& key, std::size_t value_size,
                                       const std::vector<RecordHeader>& headers);

}  // namespace outflow::kafka
