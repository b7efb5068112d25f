#include "operator/topics/desired_topics.h"

namespace outflow::op::topics {

std::vector<pipeline::TopicSpec> desired_topics(const pipeline::PipelineSpec& spec) {
  std::vector<pipeline::TopicSpec> out = spec.topics;
  if (!spec.dead_letter) return out;

  const pipeline::DeadLetterSpec& dl = *spec.dead_letter;
  auto derived = [&dl](std::string name) {
    return pipeline::TopicSpec{std::move(name), dl.partitions, dl.replication_factor, dl.config};
  };
  out.push_back(derived(dl.topic));
  for (int attempt = 1; attempt <= dl.max_attempts; ++attempt) {
    out.push_back(derived(retry_tier_topic(dl.topic, attempt)));
  }
  out.push_back(derived(parked_topic(dl.topic)));
  return out;
}

}  // namespace outflow::op::topics
