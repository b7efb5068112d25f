#pragma once

// What refers to what, kept as informer events arrive, so that an event for a
// Secret or a Pod finds its pipelines by lookup instead of by copying and
// parsing every cached pipeline (O(N) per event, O(N^2) at start-up):
//   Secret "ns/name"             -> the pipelines whose spec names it
//   agent instance label "ns/x"  -> the pipelines whose agents carry it
//   agent instance label "ns/x"  -> the agent pods that carry it
// plus, per pipeline, a digest of its reconcile fingerprint, so a status
// heartbeat (which changes nothing a reconcile reads) is told from news.
//
// Thread-safe: informer threads write, reconcile workers read.

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace outflow::op::controller {

class PipelineIndex {
 public:
  struct Pipeline {
    std::string key;                   // "namespace/name"
    std::string fingerprint_digest;    // of reconcile_fingerprint()
    std::vector<std::string> secrets;  // names the spec refers to (none for an invalid spec)
    std::string agent_instance;        // the app.kubernetes.io/instance label of its agents
    // What a person asks of it: its generation and whether it is being
    // deleted. Status writes (the operator's own, the agents') leave it alone.
    std::string intent;
  };

  // What an upsert tells the work queue.
  enum class News {
    None,     // the fingerprint digest is the one recorded: nothing a reconcile reads changed
    Routine,  // something a reconcile reads changed, but not what a person asked (status)
    Intent,   // new, or its intent changed: a person is waiting for this one
  };

  // Records (or re-records) a pipeline.
  News upsert_pipeline(const Pipeline& pipeline);
  void remove_pipeline(const std::string& key);

  // Records that agent pod `ns/pod` carries instance label `instance` ("" or
  // a label change moves or drops it).
  void upsert_pod(const std::string& ns, const std::string& pod, const std::string& instance);
  void remove_pod(const std::string& ns, const std::string& pod);

  std::vector<std::string> pipelines_using_secret(const std::string& ns, const std::string& secret) const;
  std::vector<std::string> pipelines_with_instance(const std::string& ns, const std::string& instance) const;
  // Names of the agent pods carrying `instance` in `ns`, sorted.
  std::vector<std::string> pods_with_instance(const std::string& ns, const std::string& instance) const;

 private:
  struct Recorded {
    std::string fingerprint_digest;
    std::vector<std::string> secrets;
    std::string agent_instance;
    std::string intent;
  };
  static std::string namespace_of(const std::string& key);
  void unlink(const std::string& key, const Recorded& recorded);

  mutable std::mutex mutex_;
  std::map<std::string, Recorded> pipelines_;
  std::map<std::string, std::set<std::string>> by_secret_;    // "ns/secret" -> pipeline keys
  std::map<std::string, std::set<std::string>> by_instance_;  // "ns/instance" -> pipeline keys
  std::map<std::string, std::set<std::string>> pods_;         // "ns/instance" -> pod names
  std::map<std::string, std::string> pod_instance_;           // "ns/pod" -> "ns/instance"
};

}  // namespace outflow::op::controller
