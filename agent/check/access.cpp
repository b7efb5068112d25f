#include "agent/check/access.h"

#include "common/pipeline/dead_letter_topics.h"

#include <fmt/format.h>

namespace outflow::agent::check {

std::string_view kafka_name(Operation operation) {
  switch (operation) {
    case Operation::Describe:
      return "DESCRIBE";
    case Operation::Write:
      return "WRITE";
    case Operation::Read:
      return "READ";
    case Operation::DescribeConfigs:
      return "DESCRIBE_CONFIGS";
  }
  return "?";
}

std::string_view acl_argument(Operation operation) {
  switch (operation) {
    case Operation::Describe:
      return "Describe";
    case Operation::Write:
      return "Write";
    case Operation::Read:
      return "Read";
    case Operation::DescribeConfigs:
      return "DescribeConfigs";
  }
  return "?";
}

std::vector<TopicNeeds> access_needs(const pipeline::PipelineSpec& spec) {
  using enum Operation;
  std::vector<TopicNeeds> out;
  for (const auto& t : spec.topics) out.push_back({t.name, {Write, DescribeConfigs}, "the agent publishes to it"});
  if (spec.dead_letter) {
    const auto& dlq = spec.dead_letter->topic;
    out.push_back({dlq, {Read}, "the agent replays dead letters from it"});
    for (int tier = 1; tier <= spec.dead_letter->max_attempts; ++tier) {
      out.push_back({pipeline::retry_tier_topic(dlq, tier), {Read, Write, DescribeConfigs},
                     "the agent retries dead letters through it"});
    }
    out.push_back({pipeline::parked_topic(dlq), {Write, DescribeConfigs, Read},
                   "the agent parks dead letters in it, outflow-agent parked reads them"});
  }
  return out;
}

namespace {

// "A", "A or B", "A, B or C".
std::string either(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

}  // namespace

std::vector<Item> access(const std::vector<TopicNeeds>& needs, const AccessFound& found, const std::string& principal,
                         const std::string& bootstrap) {
  std::vector<Item> out;
  std::size_t probed_topics = 0;
  for (const auto& need : needs) {
    const auto topic = found.find(need.topic);
    if (topic == found.end()) continue;
    ++probed_topics;
    const auto subject = fmt::format("access to topic {}", need.topic);
    std::vector<std::string_view> denied_names;
    std::string grant;
    for (const auto operation : need.operations) {
      const auto it = topic->second.find(operation);
      const Probed probed = it == topic->second.end() ? Probed{Access::Unknown, "not probed"} : it->second;
      if (probed.access == Access::Denied) {
        denied_names.push_back(kafka_name(operation));
        grant += fmt::format(" --operation {}", acl_argument(operation));
      } else if (probed.access == Access::Unknown) {
        out.push_back({subject, Outcome::Failed,
                       fmt::format("could not tell whether {} may {} it: {}", principal, kafka_name(operation),
                                   probed.reason)});
      }
    }
    if (denied_names.empty()) continue;
    out.push_back({subject, Outcome::Failed,
                   fmt::format("{} may not {} it ({}); grant {}: kafka-acls --bootstrap-server {} --add "
                               "--allow-principal {}{} --topic {}",
                               principal, either(denied_names), need.use, denied_names.size() == 1 ? "it" : "them",
                               bootstrap, principal, grant, need.topic)});
  }
  if (out.empty() && probed_topics > 0) {
    out.push_back({"access", Outcome::Ok,
                   fmt::format("{} has every permission the agent needs on the {} topic{}", principal, probed_topics,
                               probed_topics == 1 ? "" : "s")});
  }
  return out;
}

}  // namespace outflow::agent::check
