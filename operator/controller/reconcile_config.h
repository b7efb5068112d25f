#pragma once

// The operator's settings that shape every reconcile (flags, see options.h).

#include "common/kube/api_client.h"
#include "operator/topics/check_schedule.h"
#include "operator/workloads/identity.h"

#include <chrono>

namespace outflow::op::controller {

struct ReconcilerConfig {
  workloads::OperatorDefaults defaults{};
  std::chrono::milliseconds resync_period{std::chrono::minutes(10)};
  // How long the finalizer may take: the first half at most waiting for the
  // agents to stop, the rest retrying topic deletion; then it goes anyway.
  std::chrono::seconds topic_deletion_timeout{std::chrono::minutes(5)};
  // An agent entry whose heartbeat is older counts as unknown.
  std::chrono::seconds heartbeat_stale_after{std::chrono::seconds(60)};
  topics::CheckPolicy topic_checks{};
  // Asked before each step that writes (to Kafka too); throws
  // kube::LeaseNotHeld when this process may not write. Empty: always may.
  kube::WriteFence write_fence{};
};

}  // namespace outflow::op::controller
