#pragma once

// Pure: where a claim starts reading pending rows while poison rows hold
// back rows of their keys.
//
// A claim reads the pending-row index in id order. Rows held back behind a
// poison row stay pending, so with 300,000 of them every claim would read
// them all before reaching other keys' rows. The floor is an id below which
// every pending row is known to be one this replica cannot claim (held back,
// or in another replica's bucket); claims start above it.
//
// A claim proves a new floor (its first row's id - 1, or the highest pending
// id when it found nothing), but only for rows visible to its snapshot: a
// transaction still open then may commit a lower id later. So a proven floor
// is used only once every transaction that was running at that snapshot has
// ended (the oldest running xid has passed the snapshot's xmax). Sequences
// with a cache, or ids taken long before the insert, can still hand out a
// lower id later: a claim from the start every full_scan_interval finds those.
// The floor is dropped whenever the set of held-back keys changes (a poison
// row fixed frees rows below it) and when the owned buckets change.

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace outflow::agent::publisher {

// What a claim statement reports besides its rows.
struct ClaimReport {
  long held_back_keys = 0;             // keys with a pending poison row
  std::string held_back_fingerprint;   // changes when that set changes
  std::optional<std::int64_t> first_id;     // lowest id claimed
  std::optional<std::int64_t> max_pending;  // highest pending id in the table
  std::uint64_t oldest_running_xid = 0;     // pg_snapshot_xmin of the snapshot
  std::uint64_t snapshot_xmax = 0;          // pg_snapshot_xmax of the snapshot
};

class ClaimFloor {
 public:
  using Clock = std::chrono::steady_clock;
  ClaimFloor(std::chrono::milliseconds full_scan_interval, Clock::time_point now);

  // The id the next claim starts after (0: from the start).
  std::int64_t start(Clock::time_point now);
  void record(const ClaimReport& report);
  void reset();

 private:
  struct Proof {
    std::int64_t floor;
    std::uint64_t valid_once_xid_passes;
  };
  std::chrono::milliseconds full_scan_interval_;
  Clock::time_point next_full_scan_;
  std::int64_t floor_ = 0;
  std::int64_t last_start_ = 0;
  std::deque<Proof> proofs_;
  std::string fingerprint_;
};

}  // namespace outflow::agent::publisher
