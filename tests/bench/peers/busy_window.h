#pragma once

// Pure: how busy the machine was over a window, from CPU readings taken
// every few tens of milliseconds. A drain's start-up and its last
// acknowledgements wait on round trips, not on the CPU; the rows stream in
// between, and that stretch is what says whether the machine bounds them.

#include <cstdint>
#include <vector>

namespace outflow::bench {

struct CpuReading {
  std::int64_t at_ms = 0;  // wall clock, the broker's LogAppendTime's clock
  unsigned long long busy = 0;   // ticks, all cores
  unsigned long long total = 0;
};

// Share of all cores busy from the last reading at or before `from_ms` to the
// first at or after `to_ms` (readings in time order); -1 when the readings do
// not cover the window.
double busy_share_within(const std::vector<CpuReading>& readings, std::int64_t from_ms, std::int64_t to_ms);

}  // namespace outflow::bench
