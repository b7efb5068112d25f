#pragma once

// `outflow-operator check`: is a running operator release healthy, as seen
// from inside its cluster? The chart's `helm test` hook runs it. What it
// gathered (operator pods, each one's probe and metrics answers, the leader
// Lease) is judged here by pure functions; command.cpp gathers.

#include "common/checklist/checklist.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace outflow::op::check {

using checklist::Item;
using checklist::Outcome;

// One HTTP GET's answer; status 0 when none came (error says why).
struct HttpSeen {
  int status = 0;
  std::string body;
  std::string error;
};

// One operator pod: the kubelet's view, and what its own ports answered.
struct ReplicaSeen {
  std::string pod;
  bool kubelet_ready = false;  // the pod's Ready condition
  std::string ip;              // empty: no pod IP yet
  HttpSeen readyz;             // health port, /readyz
  HttpSeen metrics;            // metrics port, /metrics
};

// The leader-election Lease as read; nullopt when it does not exist.
struct LeaseSeen {
  std::string holder;                       // spec.holderIdentity
  std::optional<std::int64_t> renewed_at;   // spec.renewTime, epoch seconds
  int duration_seconds = 0;                 // spec.leaseDurationSeconds
};

// What the release was installed to be.
struct Expected {
  int replicas = 1;
  std::string lease;  // the Lease's name; empty: leader election is off
};

// The value of an unlabelled gauge or counter in Prometheus' text format;
// nullopt when the metric is absent.
std::optional<double> metric_value(std::string_view text, std::string_view name);

// The checklist: the pods (as many as expected, all Ready), each pod's own
// answers, exactly one leader, and the Lease held by it and fresh.
std::vector<Item> judge(const std::vector<ReplicaSeen>& replicas, const Expected& expected,
                        const std::optional<LeaseSeen>& lease, std::int64_t now_epoch_seconds);

}  // namespace outflow::op::check
