#pragma once

// The topic half of a reconcile as a pure function: from the desired topics and
// what the broker reports, decide which Admin calls to make and what to tell the
// user. No I/O and no clock, so every rule is a unit test and a resync that
// finds nothing to change makes no calls.
//
// The calls are batched by kind so the driver sends at most one CreateTopics,
// one CreatePartitions and one AlterConfigs request per reconcile, however many
// topics (a deadLetter ladder alone can add fifty) need work.

#include "common/kafka/admin.h"
#include "common/pipeline/spec.h"
#include "operator/topics/ownership.h"
#include "operator/topics/status.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace outflow::op::topics {

// A topic as described by the broker.
struct ObservedTopic {
  int partitions = 0;
  int replication_factor = 0;
  // Only configs whose source is a dynamic topic override, i.e. set on the
  // topic itself; broker and built-in defaults are left out.
  std::map<std::string, std::string> dynamic_config;
};

// Every member has an initializer so that a caller can name just the parts it
// has, plan({.desired = ..., .self = ...}), under -Wmissing-field-initializers.
struct Input {
  std::vector<pipeline::TopicSpec> desired{};       // desired_topics(spec)
  std::map<std::string, ObservedTopic> observed{};  // absent: the topic does not exist
  std::set<std::string> managed{};                  // names with status.topics[].managed
  // status.topics[].origin of managed topics; a managed topic missing here
  // keeps origin Unknown (recorded before origins were).
  std::map<std::string, TopicOrigin> origins{};
  PipelineRef self{};
  // Claims of the other pipelines on the same Kafka cluster; claims carrying
  // self's uid are ignored, so passing every pipeline's claims is fine.
  std::vector<Claim> claims{};
};

// CreatePartitions: grow `topic` to `new_total` partitions.
struct NewPartitions {
  std::string topic;
  int new_total = 0;
  bool operator==(const NewPartitions&) const = default;
};

// AlterConfigs for one topic. The non-incremental AlterConfigs (all that
// librdkafka 2.0 offers) replaces the topic's whole set of overrides, so this
// is always the full desired config; anything else set on the topic goes back
// to the broker default.
struct ConfigReplacement {
  std::string topic;
  std::map<std::string, std::string> config;
  bool operator==(const ConfigReplacement&) const = default;
};

struct Plan {
  // Admin calls, each in desired order.
  std::vector<kafka::NewTopic> create;
  std::vector<NewPartitions> create_partitions;
  std::vector<ConfigReplacement> alter_configs;
  // Pre-existing topics found to match the spec and taken over this round, so
  // that later rounds manage them (they are also `managed` in `topics`).
  std::vector<std::string> adopted;

  std::vector<TopicStatus> topics;  // one per desired topic, in desired order
  TopicsReadyCondition condition;   // roll_up(topics)
  std::string summary;              // summary(topics)

  bool has_calls() const {
    return !create.empty() || !create_partitions.empty() || !alter_configs.empty();
  }
};

// Per desired topic, first match wins:
//  1. an older pipeline claims it: Error/ResourceConflict, no call;
//  2. it does not exist: create it (Pending/Creating, origin Created);
//  3. it exists but is not managed: adopt it (Ready/Adopted, origin Adopted) only if partitions,
//     replication factor and the dynamic overrides equal the spec exactly
//     (an override the spec lacks would be wiped by our next AlterConfigs, so
//     it blocks adoption too); else Error/TopicExistsWithDifferentSettings,
//     no call - Outflow never changes a topic it does not own;
//  4. it is managed (origin carried over): refuse a partition decrease (PartitionDecreaseRefused) or
//     a replication-factor change (ReplicationFactorChangeRefused); increase
//     partitions; replace drifted config. A refusal is an Error but does not
//     hold back the topic's other, independent corrections.
// Anything with a call planned is Pending; a topic that matches is Ready.
Plan plan(const Input& input);

}  // namespace outflow::op::topics
