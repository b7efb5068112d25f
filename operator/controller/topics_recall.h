#pragma once

// What a starting operator (a restart, or a standby that became leader) can
// take from the stored status instead of asking Kafka. Without it, the first
// pass after a start asks the broker about every pipeline's topics (a cluster
// id and a describe per pipeline: minutes at 1,000 pipelines) although the
// status already says they were all Ready at the current generation.
//
// Recalled only when nothing a check would act on can have changed since the
// status was written: the same generation (so the same spec: topics,
// partitions, configs, bootstrap servers), every desired topic Ready and ours,
// TopicsReady=True at that generation, a known cluster id, and the Kafka
// Secrets readable. What a check does find besides (a topic deleted or edited
// on the broker while the operator was away) is drift, which the periodic
// check repairs anyway: its schedule starts at the restart, each pipeline at
// its own offset within one resync period, so that 1,000 recalled pipelines do
// not all fall due in the same second.

#include "operator/controller/decide.h"
#include "operator/controller/observed.h"
#include "operator/topics/status.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <vector>

namespace outflow::op::controller {

// status.topics as stored: what the last operator (this process before a
// restart, or another replica) found, until this process checks for itself.
std::vector<topics::TopicStatus> topic_statuses_from(const nlohmann::json& status);

// The topic knowledge to start from, or nullopt when the topics must be
// checked now. `resync`: the periodic check's interval.
std::optional<TopicsKnown> recall_topics(const Observed& observed, std::chrono::milliseconds resync);

}  // namespace outflow::op::controller
