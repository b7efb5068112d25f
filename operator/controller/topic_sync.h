#pragma once

// The I/O half of the topic reconcile: describe what the broker has, run
// topics::plan, send its batched Admin calls, and fold the broker's per-topic
// answers back into the statuses the plan predicted.

#include "common/kafka/create_batcher.h"
#include "operator/controller/metrics.h"
#include "operator/topics/check_schedule.h"
#include "operator/topics/plan.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace outflow::op::controller {

struct TopicSyncResult {
  std::vector<topics::TopicStatus> statuses;
  topics::TopicsReadyCondition condition;
  std::string summary;
  topics::CheckOutcome outcome = topics::CheckOutcome::Ready;
  // What changed, for Events.
  std::vector<std::string> created;
  std::vector<std::string> grown;
  std::vector<std::string> reconfigured;
  std::vector<std::string> adopted;
  // The id the cluster reported; empty when it could not be asked or has none.
  std::string cluster_id;
};

// The other pipelines' claims that count against this one, given the id the
// cluster just reported ("" when it reported none).
using ClaimsFor = std::function<std::vector<topics::Claim>(const std::string& cluster_id)>;

// `input.observed` is filled here from the broker, `input.claims` from
// `claims_for` once the cluster has said who it is. Never throws for Kafka
// trouble: an unreachable cluster comes back as outcome Unreachable with a
// KafkaUnreachable condition.
// `last_known`: the statuses reported before, kept when the broker cannot be asked.
// Topics are created through `creates`, in one request with other reconciles'.
// `before_write` runs before each Admin call that changes the cluster and may
// throw to stop it (a leader that lost its lease); its exception propagates.
TopicSyncResult sync_topics(rd_kafka_t* admin, topics::Input input, const ClaimsFor& claims_for,
                            const std::vector<topics::TopicStatus>& last_known,
                            std::chrono::milliseconds timeout, Metrics& metrics,
                            kafka::CreateTopicsBatcher& creates, const std::function<void()>& before_write = {});

// The condition and statuses to report when the topics could not be checked
// at all (Secrets missing, broker unreachable): the last known per-topic
// states, so one bad minute does not blank the table.
TopicSyncResult unchecked_topics(const std::vector<pipeline::TopicSpec>& desired,
                                 const std::vector<topics::TopicStatus>& last_known,
                                 const std::string& reason, const std::string& message,
                                 topics::CheckOutcome outcome);

}  // namespace outflow::op::controller
