#pragma once

// The Lease objects the elector writes, as pure functions of what it read and
// the wall-clock time, so their shape is unit-tested field by field. The
// fields follow client-go's resourcelock.LeaseLock, so `kubectl get lease` and
// tools written for client-go's leases read ours the same way.

#include "common/kube/leader_election.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace outflow::kube {

// metav1.MicroTime as the API server writes it: "2006-01-02T15:04:05.000000Z".
std::string format_micro_time(std::chrono::system_clock::time_point time);

// leaseDurationSeconds for a configured duration: rounded up, at least 1, so
// other candidates never wait less than we promised.
int lease_duration_seconds(std::chrono::milliseconds duration);

// The object to create (Create) or replace (Acquire, Renew). `current` is the
// Lease as read (ignored for Create); its metadata, resourceVersion included,
// is kept so the replace fails with Conflict if anyone wrote in between.
//  - Create:  transitions 0, acquireTime = renewTime = now.
//  - Acquire: transitions + 1, acquireTime = renewTime = now.
//  - Renew:   transitions and acquireTime kept, renewTime = now.
// Throws std::invalid_argument for Wait, and for Acquire/Renew without `current`.
nlohmann::json lease_to_write(const std::optional<nlohmann::json>& current, LeaseAction action,
                              const LeaseConfig& config, std::chrono::system_clock::time_point now);

// The lease handed back on a clean stop, like client-go's release: no holder,
// leaseDurationSeconds 1, acquireTime = renewTime = now, transitions kept (the
// next holder counts the change). Metadata (resourceVersion) kept.
nlohmann::json released_lease(const nlohmann::json& current,
                              std::chrono::system_clock::time_point now);

}  // namespace outflow::kube
