#include "operator/topics/ownership.h"

#include "operator/topics/desired_topics.h"

#include <tuple>

namespace outflow::op::topics {

bool takes_precedence(const PipelineRef& a, const PipelineRef& b) {
  return std::tie(a.creation_timestamp, a.uid) < std::tie(b.creation_timestamp, b.uid);
}

std::vector<Claim> claims_of(const PipelineRef& pipeline, const pipeline::PipelineSpec& spec) {
  std::vector<Claim> out;
  for (pipeline::TopicSpec& topic : desired_topics(spec)) {
    out.push_back(Claim{std::move(topic.name), pipeline});
  }
  return out;
}

}  // namespace outflow::op::topics
