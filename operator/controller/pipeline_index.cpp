#include "operator/controller/pipeline_index.h"

namespace outflow::op::controller {
namespace {

std::vector<std::string> members(const std::map<std::string, std::set<std::string>>& index,
                                 const std::string& key) {
  const auto found = index.find(key);
  if (found == index.end()) return {};
  return {found->second.begin(), found->second.end()};
}

void drop(std::map<std::string, std::set<std::string>>& index, const std::string& key, const std::string& member) {
  const auto found = index.find(key);
  if (found == index.end()) return;
  found->second.erase(member);
  if (found->second.empty()) index.erase(found);
}

}  // namespace

std::string PipelineIndex::namespace_of(const std::string& key) { return key.substr(0, key.find('/')); }

void PipelineIndex::unlink(const std::string& key, const Recorded& recorded) {
  const auto ns = namespace_of(key);
  for (const auto& secret : recorded.secrets) drop(by_secret_, ns + "/" + secret, key);
  drop(by_instance_, ns + "/" + recorded.agent_instance, key);
}

PipelineIndex::News PipelineIndex::upsert_pipeline(const Pipeline& pipeline) {
  const std::lock_guard lock(mutex_);
  const auto ns = namespace_of(pipeline.key);
  auto [it, fresh] = pipelines_.try_emplace(pipeline.key);
  const auto news = fresh || it->second.intent != pipeline.intent ? News::Intent
                    : it->second.fingerprint_digest != pipeline.fingerprint_digest ? News::Routine
                                                                                   : News::None;
  if (!fresh) unlink(pipeline.key, it->second);
  it->second = {pipeline.fingerprint_digest, pipeline.secrets, pipeline.agent_instance, pipeline.intent};
  for (const auto& secret : pipeline.secrets) by_secret_[ns + "/" + secret].insert(pipeline.key);
  by_instance_[ns + "/" + pipeline.agent_instance].insert(pipeline.key);
  return news;
}

void PipelineIndex::remove_pipeline(const std::string& key) {
  const std::lock_guard lock(mutex_);
  const auto found = pipelines_.find(key);
  if (found == pipelines_.end()) return;
  unlink(key, found->second);
  pipelines_.erase(found);
}

void PipelineIndex::upsert_pod(const std::string& ns, const std::string& pod, const std::string& instance) {
  const std::lock_guard lock(mutex_);
  const auto pod_key = ns + "/" + pod;
  const auto instance_key = ns + "/" + instance;
  const auto old = pod_instance_.find(pod_key);
  if (old != pod_instance_.end()) {
    if (old->second == instance_key) return;
    drop(pods_, old->second, pod);
    pod_instance_.erase(old);
  }
  if (instance.empty()) return;
  pods_[instance_key].insert(pod);
  pod_instance_.emplace(pod_key, instance_key);
}

void PipelineIndex::remove_pod(const std::string& ns, const std::string& pod) { upsert_pod(ns, pod, ""); }

std::vector<std::string> PipelineIndex::pipelines_using_secret(const std::string& ns,
                                                               const std::string& secret) const {
  const std::lock_guard lock(mutex_);
  return members(by_secret_, ns + "/" + secret);
}

std::vector<std::string> PipelineIndex::pipelines_with_instance(const std::string& ns,
                                                                const std::string& instance) const {
  const std::lock_guard lock(mutex_);
  return members(by_instance_, ns + "/" + instance);
}

std::vector<std::string> PipelineIndex::pods_with_instance(const std::string& ns, const std::string& instance) const {
  const std::lock_guard lock(mutex_);
  return members(pods_, ns + "/" + instance);
}

}  // namespace outflow::op::controller
