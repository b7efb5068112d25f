#include "common/kafka/record_size.h"

namespace outflow::kafka {
namespace {

// RecordBatch v2 header: baseOffset 8, batchLength 4, partitionLeaderEpoch 4,
// magic 1, crc 4, attributes 2, lastOffsetDelta 4, baseTimestamp 8,
// maxTimestamp 8, producerId 8, producerEpoch 2, baseSequence 4, records count 4.
constexpr std::int64_t kBatchHeader = 61;
// A varint carrying a 32-bit length or delta is at most 5 bytes.
constexpr std::int64_t kVarint = 5;
// Record: length, attributes (1), timestampDelta, offsetDelta, key length,
// value length, header count.
constexpr std::int64_t kRecordFixed = kVarint + 1 + kVarint + kVarint + kVarint + kVarint + kVarint;

}  // namespace

std::int64_t single_record_batch_bytes(const std::optional<std::string>& key, std::size_t value_size,
                                       const std::vector<RecordHeader>& headers) {
  std::int64_t bytes = kBatchHeader + kRecordFixed + static_cast<std::int64_t>(value_size);
  if (key) bytes += static_cast<std::int64_t>(key->size());
  for (const auto& [name, value] : headers) {
    bytes += kVarint + static_cast<std::int64_t>(name.size()) + kVarint;
    if (value) bytes += static_cast<std::int64_t>(value->size());
  }
  return bytes;
}

}  // namespace outflow::kafka
