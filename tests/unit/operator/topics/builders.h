#pragma once

// Short spellings for the topic planning tests, so each test shows only the
// facts its rule depends on.

#include "operator/topics/plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace outflow::op::topics::testing {

using Config = std::map<std::string, std::string>;

inline pipeline::TopicSpec topic(std::string name, int partitions = 3,
                                 int replication_factor = 1, Config config = {}) {
  return {std::move(name), partitions, replication_factor, std::move(config)};
}

inline ObservedTopic existing(int partitions = 3, int replication_factor = 1,
                              Config dynamic_config = {}) {
  return {partitions, replication_factor, std::move(dynamic_config)};
}

inline PipelineRef pipeline_ref(std::string name, std::string created, std::string uid) {
  return {std::move(name), std::move(created), std::move(uid)};
}

// This pipeline, in every test that does not care about its identity.
// A pipeline created before self() and one created after it, for conflicts.
inline PipelineRef older_pipeline() {
  return pipeline_ref("billing/invoices", "2024-01-01T00:00:00Z", "uid-old");
}
inline PipelineRef younger_pipeline() {
  return pipeline_ref("shop/late", "2024-09-01T00:00:00Z", "uid-young");
}

inline PipelineRef self() {
  return pipeline_ref("shop/orders", "2024-05-01T12:00:00Z", "uid-self");
}

// The entry for `name`; fails the test when there is none.
inline TopicStatus status_of(const Plan& plan, const std::string& name) {
  auto found = std::find_if(plan.topics.begin(), plan.topics.end(),
                            [&](const TopicStatus& t) { return t.name == name; });
  if (found == plan.topics.end()) {
    ADD_FAILURE() << "no status for topic " << name;
    return {};
  }
  return *found;
}

inline std::vector<std::string> names_of(const std::vector<kafka::NewTopic>& topics) {
  std::vector<std::string> out;
  for (const auto& t : topics) out.push_back(t.name);
  return out;
}

inline std::vector<std::string> names_of(const std::vector<TopicStatus>& topics) {
  std::vector<std::string> out;
  for (const auto& t : topics) out.push_back(t.name);
  return out;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace outflow::op::topics::testing
