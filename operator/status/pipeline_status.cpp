#include "operator/status/pipeline_status.h"

namespace outflow::op::status {

nlohmann::json to_json(const std::vector<topics::TopicStatus>& topics) {
  auto out = nlohmann::json::array();
  for (const auto& t : topics) {
    nlohmann::json entry = {{"name", t.name},
                            {"partitions", t.partitions},
                            {"replicationFactor", t.replication_factor},
                            {"state", std::string(topics::to_string(t.state))},
                            {"managed", t.managed}};
    if (!t.reason.empty()) entry["reason"] = t.reason;
    if (!t.message.empty()) entry["message"] = t.message;
    if (t.managed && t.origin != topics::TopicOrigin::Unknown) {
      entry["origin"] = std::string(topics::to_string(t.origin));
    }
    out.push_back(std::move(entry));
  }
  return out;
}

nlohmann::json operator_status(const Findings& f, const nlohmann::json& current_status,
                               const std::string& now) {
  auto conditions = conditions_from_json(current_status.is_object()
                                             ? current_status.value("conditions", nlohmann::json::array())
                                             : nlohmann::json::array());
  const std::vector<Condition> parts{f.topics_ready, f.agents_ready, f.breakers_closed};
  std::vector<Condition> ordered;
  for (const auto& desired : {ready(parts, f.generation), f.topics_ready, f.agents_ready,
                              f.breakers_closed, f.alerts_ready}) {
    conditions = set_condition(std::move(conditions), desired, now);
    ordered.push_back(*find_condition(conditions, desired.type));
  }
  nlohmann::json out = {{"observedGeneration", f.generation},
                        {"conditions", to_json(ordered)},
                        {"topics", to_json(f.topics)},
                        {"summary", to_json(f.summary)}};
  if (!f.kafka_cluster_id.empty()) out["kafkaClusterId"] = f.kafka_cluster_id;
  return out;
}

bool needs_write(const nlohmann::json& desired, const nlohmann::json& current_status) {
  if (!current_status.is_object()) return true;
  // A cluster id no longer known must be removed, not left standing: another
  // pipeline's deletion would trust it.
  if (!desired.contains("kafkaClusterId") && current_status.contains("kafkaClusterId")) return true;
  for (const auto& [key, value] : desired.items()) {
    if (!current_status.contains(key)) return true;
    const auto& have = current_status.at(key);
    if (key == "conditions") {
      // Conditions written by someone else (none today) may sit beside ours:
      // compare ours by type.
      const auto theirs = conditions_from_json(have);
      for (const auto& c : conditions_from_json(value)) {
        const auto* found = find_condition(theirs, c.type);
        if (found == nullptr || !(*found == c)) return true;
      }
      continue;
    }
    if (have != value) return true;
  }
  return false;
}

std::set<std::string> managed_topics(const nlohmann::json& current_status) {
  std::set<std::string> managed;
  if (!current_status.is_object() || !current_status.contains("topics")) return managed;
  for (const auto& t : current_status.at("topics")) {
    if (t.is_object() && t.value("managed", false)) managed.insert(t.value("name", ""));
  }
  return managed;
}

std::map<std::string, topics::TopicOrigin> topic_origins(const nlohmann::json& current_status) {
  std::map<std::string, topics::TopicOrigin> origins;
  if (!current_status.is_object() || !current_status.contains("topics")) return origins;
  for (const auto& t : current_status.at("topics")) {
    if (!t.is_object() || !t.value("managed", false)) continue;
    const auto origin = topics::origin_from_string(t.value("origin", ""));
    if (origin != topics::TopicOrigin::Unknown) origins[t.value("name", "")] = origin;
  }
  return origins;
}

std::set<std::string> created_topics(const nlohmann::json& current_status) {
  std::set<std::string> created;
  for (const auto& [name, origin] : topic_origins(current_status)) {
    if (origin == topics::TopicOrigin::Created) created.insert(name);
  }
  return created;
}

std::string kafka_cluster_id(const nlohmann::json& status) {
  if (!status.is_object()) return "";
  const auto found = status.find("kafkaClusterId");
  return found != status.end() && found->is_string() ? found->get<std::string>() : "";
}

}  // namespace outflow::op::status
