#include "operator/topics/deletion.h"

#include <fmt/format.h>

namespace outflow::op::topics {
namespace {

const PipelineRef* other_claimant(const std::string& topic, const PipelineRef& self,
                                  const std::vector<Claim>& claims) {
  for (const Claim& claim : claims) {
    if (claim.topic == topic && claim.by.uid != self.uid) return &claim.by;
  }
  return nullptr;
}

}  // namespace

DeletionPlan deletion_plan(const std::vector<pipeline::TopicSpec>& desired,
                           const std::set<std::string>& created, const PipelineRef& self,
                           const std::vector<Claim>& claims) {
  DeletionPlan out;
  std::set<std::string> seen;
  for (const pipeline::TopicSpec& want : desired) {
    const std::string& topic = want.name;
    if (!seen.insert(topic).second) continue;
    if (!created.contains(topic)) {
      out.retained.push_back(
          {topic, "NotCreatedByPipeline",
           fmt::format("kept topic {}: this pipeline did not create it (it existed before and was "
                       "adopted, or was never managed).",
                       topic)});
    } else if (const PipelineRef* other = other_claimant(topic, self, claims)) {
      out.retained.push_back(
          {topic, "ClaimedByOtherPipeline",
           fmt::format("kept topic {}: EventPipeline {} also lists it.", topic, other->name)});
    } else {
      out.remove.push_back(topic);
    }
  }
  return out;
}

}  // namespace outflow::op::topics
