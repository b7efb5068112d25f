#pragma once

// What the operator reports about topics: one entry per desired topic
// (status.topics), rolled up into the TopicsReady condition and the Topics
// printer column. Kept apart from planning so the driver can re-roll after it
// learns how the planned Admin calls went (a create the broker rejected turns
// a Pending entry into an Error one).

#include <string>
#include <string_view>
#include <vector>

namespace outflow::op::topics {

enum class TopicState { Ready, Pending, Error };

// "Ready", "Pending", "Error": the spelling status.topics[].state uses.
std::string_view to_string(TopicState state);

// How a managed topic came to be the pipeline's. Only Created topics are
// deleted under topicDeletionPolicy: Delete: an adopted topic existed before
// the pipeline, with data it does not own. Unknown: not managed, or managed
// in a status written before origins were recorded (never deleted: when
// unsure, keep).
enum class TopicOrigin { Unknown, Created, Adopted };

// "Created", "Adopted", "" (Unknown): the spelling status.topics[].origin uses.
std::string_view to_string(TopicOrigin origin);
TopicOrigin origin_from_string(std::string_view text);

struct TopicStatus {
  std::string name;
  // What the topic has now; for a topic not created yet, what it will be
  // created with.
  int partitions = 0;
  int replication_factor = 0;
  TopicState state = TopicState::Pending;
  std::string reason;   // CamelCase, e.g. PartitionDecreaseRefused
  std::string message;  // names the topic and the numbers, says what to do
  // Created or adopted by this pipeline. The driver records it so the next
  // plan (and deletion) knows which topics are ours; a planned create counts,
  // and the driver clears the flag if the broker rejects that create.
  bool managed = false;
  TopicOrigin origin = TopicOrigin::Unknown;  // meaningful only when managed
  bool operator==(const TopicStatus&) const = default;
};

// The TopicsReady condition (metav1.Condition's status/reason/message).
struct TopicsReadyCondition {
  bool ready = false;  // status "True" / "False"
  std::string reason;
  std::string message;
  bool operator==(const TopicsReadyCondition&) const = default;
};

// True/AllTopicsReady when every topic is Ready (also when there are none).
// Any Error: False with the first Error's reason; the message lists every
// failing topic and repeats the first one's message. Otherwise False/TopicsPending.
TopicsReadyCondition roll_up(const std::vector<TopicStatus>& topics);

// Whether the condition is worth a Warning Event: a problem someone has to act
// on. Topics still pending (being created, partitions being added, waiting
// for the broker to show them) are normal progress: the condition says so,
// and the Normal TopicsCreated/PartitionsIncreased Events say what was done.
bool worth_a_warning(const TopicsReadyCondition& condition);

// "ready/total", e.g. "7/8", for the Topics printer column.
std::string summary(const std::vector<TopicStatus>& topics);

}  // namespace outflow::op::topics
