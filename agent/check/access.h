#pragma once

// What `outflow-agent check` asks of the Kafka principal: which operations
// the agent needs on each of its topics, and the checklist lines once the
// probes (access_probes.h) have found out what the broker allows. Pure.

#include "agent/check/checklist.h"
#include "common/pipeline/spec.h"

#include <map>
#include <string>
#include <vector>

namespace outflow::agent::check {

// Kafka's topic ACL operations the agent uses. (WRITE and READ imply
// DESCRIBE in Kafka, so DESCRIBE itself is never needed on its own.)
enum class Operation { Describe, Write, Read, DescribeConfigs };

// "WRITE": how Kafka names it in errors and in kafka-acls --list.
std::string_view kafka_name(Operation operation);
// "Write": the kafka-acls --operation argument.
std::string_view acl_argument(Operation operation);

struct TopicNeeds {
  std::string topic;
  std::vector<Operation> operations;  // in the order the lines name them
  std::string use;                    // "the agent publishes to it", ...
  bool operator==(const TopicNeeds&) const = default;
};

// The spec's topics: WRITE (publishing) and DESCRIBE_CONFIGS (the publisher
// reads their max.message.bytes and cleanup.policy before it sends, and
// sends nothing without them). With deadLetter: the dead-letter topic READ;
// each retry tier READ, WRITE, DESCRIBE_CONFIGS; the parked topic WRITE,
// DESCRIBE_CONFIGS and READ (`outflow-agent parked` reads it).
std::vector<TopicNeeds> access_needs(const pipeline::PipelineSpec& spec);

// What a probe found out about one operation on one topic.
enum class Access { Allowed, Denied, Unknown };
struct Probed {
  Access access = Access::Unknown;
  std::string reason;  // for Unknown: why the probe could not tell
  bool operator==(const Probed&) const = default;
};
// Per topic, per operation. A topic absent here was not probed (it does not
// exist, or could not be looked up): its own topic line says so already.
using AccessFound = std::map<std::string, std::map<Operation, Probed>>;

// One Failed item per probed topic that lacks an operation it needs, naming
// the operations and a kafka-acls line granting them; one Failed item per
// operation no probe could decide; otherwise one Ok item for all of them.
// `principal` is Kafka's spelling ("User:alice"), `bootstrap` the address the
// kafka-acls line uses.
std::vector<Item> access(const std::vector<TopicNeeds>& needs, const AccessFound& found,
                         const std::string& principal, const std::string& bootstrap);

}  // namespace outflow::agent::check
