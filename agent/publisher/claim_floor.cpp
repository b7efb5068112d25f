#include "agent/publisher/claim_floor.h"

#include <algorithm>

namespace outflow::agent::publisher {

ClaimFloor::ClaimFloor(std::chrono::milliseconds full_scan_interval, Clock::time_point now)
    : full_scan_interval_(full_scan_interval), next_full_scan_(now + full_scan_interval) {}

std::int64_t ClaimFloor::start(Clock::time_point now) {
  if (now >= next_full_scan_) {
    next_full_scan_ = now + full_scan_interval_;
    reset();
  }
  last_start_ = floor_;
  return floor_;
}

void ClaimFloor::reset() {
  floor_ = 0;
  last_start_ = 0;
  proofs_.clear();
}

void ClaimFloor::record(const ClaimReport& report) {
  if (report.held_back_keys == 0) {
    // Nothing held back: claims are quick from the start, and starting there
    // never makes a late commit wait.
    reset();
    fingerprint_.clear();
    return;
  }
  if (report.held_back_fingerprint != fingerprint_) {
    fingerprint_ = report.held_back_fingerprint;
    // A claim from the start still proves a floor under the new set.
    const bool from_start = last_start_ == 0;
    reset();
    if (!from_start) return;
  }
  // Proofs from snapshots every transaction of which has ended are firm.
  while (!proofs_.empty() && proofs_.front().valid_once_xid_passes <= report.oldest_running_xid) {
    floor_ = std::max(floor_, proofs_.front().floor);
    proofs_.pop_front();
  }
  // This claim read every pending row above its start: those below its first
  // row (all of them when it found none) cannot be claimed here.
  std::optional<std::int64_t> proven;
  if (report.first_id) {
    proven = *report.first_id - 1;
  } else if (report.max_pending) {
    proven = *report.max_pending;
  }
  if (!proven || *proven <= last_start_ || *proven <= floor_) return;
  if (report.snapshot_xmax <= report.oldest_running_xid) {
    floor_ = *proven;  // nothing was running: firm at once
    return;
  }
  if (!proofs_.empty() && proofs_.back().floor >= *proven) return;
  proofs_.push_back({*proven, report.snapshot_xmax});
  // Bounded: under a steady stream of transactions keep the newest few.
  if (proofs_.size() > 64) proofs_.pop_front();
}

}  // namespace outflow::agent::publisher
