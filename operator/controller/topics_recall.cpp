#include "operator/controller/topics_recall.h"

#include "common/pipeline/spec.h"
#include "operator/secrets/references.h"
#include "operator/status/conditions.h"
#include "operator/status/pipeline_status.h"
#include "operator/topics/connection.h"
#include "operator/topics/desired_topics.h"

#include <algorithm>
#include <functional>

namespace outflow::op::controller {

using nlohmann::json;

std::vector<topics::TopicStatus> topic_statuses_from(const json& status) {
  std::vector<topics::TopicStatus> out;
  for (const auto& t : status.value("topics", json::array())) {
    topics::TopicStatus s;
    s.name = t.value("name", "");
    s.partitions = t.value("partitions", 0);
    s.replication_factor = t.value("replicationFactor", 0);
    const auto state = t.value("state", "Pending");
    s.state = state == "Ready"   ? topics::TopicState::Ready
              : state == "Error" ? topics::TopicState::Error
                                 : topics::TopicState::Pending;
    s.reason = t.value("reason", "");
    s.message = t.value("message", "");
    s.managed = t.value("managed", false);
    s.origin = s.managed ? topics::origin_from_string(t.value("origin", "")) : topics::TopicOrigin::Unknown;
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<TopicsKnown> recall_topics(const Observed& observed, std::chrono::milliseconds resync) {
  const auto& object = observed.pipeline;
  const auto& metadata = object.at("metadata");
  if (metadata.contains("deletionTimestamp")) return std::nullopt;
  pipeline::PipelineSpec spec;
  try {
    spec = pipeline::parse_spec(object.value("spec", json::object()));
  } catch (const pipeline::SpecError&) {
    return std::nullopt;
  }
  if (spec.paused) return std::nullopt;
  for (const auto& missing : secrets::missing_secrets(spec, observed.secrets)) {
    if (missing.kafka) return std::nullopt;
  }

  const auto generation = metadata.value("generation", std::int64_t{0});
  const auto status = object.value("status", json::object());
  if (status.value("observedGeneration", std::int64_t{-1}) != generation) return std::nullopt;
  const auto conditions = status::conditions_from_json(status.value("conditions", json::array()));
  const auto* ready = status::find_condition(conditions, "TopicsReady");
  if (ready == nullptr || ready->status != "True" || ready->observed_generation != generation) return std::nullopt;
  const auto cluster_id = status::kafka_cluster_id(status);
  if (cluster_id.empty()) return std::nullopt;

  auto statuses = topic_statuses_from(status);
  const auto desired = topics::desired_topics(spec);
  if (statuses.size() != desired.size()) return std::nullopt;
  for (std::size_t i = 0; i < desired.size(); ++i) {
    const auto& s = statuses[i];
    if (s.name != desired[i].name || s.state != topics::TopicState::Ready || !s.managed) return std::nullopt;
  }

  // Each pipeline's periodic check at its own offset within one resync period
  // (by uid: the same pipeline, the same offset), as if its last check had
  // been that long before now.
  const auto offset_of = [&](const std::string& uid) {
    const auto period = std::max<std::int64_t>(resync.count(), 1);
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::hash<std::string>{}(uid) % period));
  };
  TopicsKnown known;
  const auto settings = topics::connection_settings(spec.kafka, observed.secrets);
  known.check = topics::CheckHistory{generation, topics::connection_key(settings),
                                     observed.now - offset_of(metadata.value("uid", "")),
                                     topics::CheckOutcome::Ready, 0};
  known.condition = {true, ready->reason, ready->message};
  known.summary = topics::summary(statuses);
  known.statuses = std::move(statuses);
  known.cluster_id = cluster_id;
  return known;
}

}  // namespace outflow::op::controller
