#include "busy_window.h"

namespace outflow::bench {

double busy_share_within(const std::vector<CpuReading>& readings, std::int64_t from_ms, std::int64_t to_ms) {
  const CpuReading* first = nullptr;
  const CpuReading* last = nullptr;
  for (const auto& r : readings) {
    if (r.at_ms <= from_ms) first = &r;
    if (r.at_ms >= to_ms) {
      last = &r;
      break;
    }
  }
  if (first == nullptr || last == nullptr || last->total <= first->total) return -1;
  return static_cast<double>(last->busy - first->busy) / static_cast<double>(last->total - first->total);
}

}  // namespace outflow::bench
