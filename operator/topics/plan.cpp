#include "operator/topics/plan.h"

#include <fmt/format.h>

#include <cctype>
#include <utility>

namespace outflow::op::topics {
namespace {

struct Finding {
  std::string reason;
  std::string message;  // one sentence, ending in a full stop
};

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

// Each message starts in lower case so it reads well on its own (and after
// "TopicsReady: "); when several follow each other, the later ones become
// sentences of their own.
std::string join_messages(const std::vector<Finding>& findings) {
  std::vector<std::string> messages;
  for (const Finding& f : findings) {
    std::string message = f.message;
    if (!messages.empty() && !message.empty()) {
      message[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(message[0])));
    }
    messages.push_back(std::move(message));
  }
  return join(messages, " ");
}

// The pipeline that keeps `topic` when it is not us: among the other claimants,
// the one that takes precedence over all, if it also takes precedence over us.
const PipelineRef* older_claimant(const Input& in, const std::string& topic) {
  const PipelineRef* oldest = nullptr;
  for (const Claim& claim : in.claims) {
    if (claim.topic != topic || claim.by.uid == in.self.uid) continue;
    if (oldest == nullptr || takes_precedence(claim.by, *oldest)) oldest = &claim.by;
  }
  return oldest != nullptr && takes_precedence(*oldest, in.self) ? oldest : nullptr;
}

// Each way the topic's dynamic overrides differ from the desired config, as
// "retention.ms is 1000 (spec: 604800000)".
std::vector<std::string> config_differences(const std::map<std::string, std::string>& want,
                                            const std::map<std::string, std::string>& have) {
  std::vector<std::string> out;
  for (const auto& [key, value] : want) {
    auto found = have.find(key);
    if (found == have.end()) {
      out.push_back(fmt::format("{} is not set (spec: {})", key, value));
    } else if (found->second != value) {
      out.push_back(fmt::format("{} is {} (spec: {})", key, found->second, value));
    }
  }
  for (const auto& [key, value] : have) {
    if (!want.contains(key)) out.push_back(fmt::format("{} is {} (spec: not set)", key, value));
  }
  return out;
}

std::string layout(int partitions, int replication_factor) {
  return fmt::format("{} partitions, replication factor {}", partitions, replication_factor);
}

Finding conflict(const std::string& topic, const PipelineRef& owner, const PipelineRef& self) {
  const std::string why =
      owner.creation_timestamp == self.creation_timestamp
          ? fmt::format("was created in the same second ({}) and has the smaller uid",
                        owner.creation_timestamp)
          : fmt::format("is older (created {})", owner.creation_timestamp);
  return {"ResourceConflict",
          fmt::format("topic {} is also claimed by EventPipeline {}, which owns it because it {}; "
                      "this pipeline leaves the topic alone. Remove {} from this pipeline's "
                      "spec, or from {}'s.",
                      topic, owner.name, why, topic, owner.name)};
}

Finding foreign_mismatch(const pipeline::TopicSpec& want, const ObservedTopic& have,
                         const std::vector<std::string>& config_diff) {
  std::vector<std::string> diffs;
  if (have.partitions != want.partitions) {
    diffs.push_back(fmt::format("partitions is {} (spec: {})", have.partitions, want.partitions));
  }
  if (have.replication_factor != want.replication_factor) {
    diffs.push_back(fmt::format("replicationFactor is {} (spec: {})", have.replication_factor,
                                want.replication_factor));
  }
  for (const std::string& d : config_diff) diffs.push_back("config " + d);
  return {"TopicExistsWithDifferentSettings",
          fmt::format("topic {} already exists, was not created by this pipeline, and differs "
                      "from the spec: {}. Outflow adopts an existing topic only when it already "
                      "matches and never changes a topic it does not own: make the spec match "
                      "the topic, or change or delete the topic.",
                      want.name, join(diffs, "; "))};
}

class Planner {
 public:
  explicit Planner(const Input& in) : in_(in) {}

  void topic(const pipeline::TopicSpec& want) {
    auto found = in_.observed.find(want.name);
    const ObservedTopic* have = found == in_.observed.end() ? nullptr : &found->second;
    TopicStatus st;
    st.name = want.name;
    st.partitions = have != nullptr ? have->partitions : want.partitions;
    st.replication_factor = have != nullptr ? have->replication_factor : want.replication_factor;

    if (const PipelineRef* owner = older_claimant(in_, want.name)) {
      finish(st, TopicState::Error, {conflict(want.name, *owner, in_.self)});
    } else if (have == nullptr) {
      create(st, want);
    } else if (!in_.managed.contains(want.name)) {
      adopt_or_refuse(st, want, *have);
    } else {
      st.managed = true;
      auto origin = in_.origins.find(want.name);
      st.origin = origin == in_.origins.end() ? TopicOrigin::Unknown : origin->second;
      reconcile(st, want, *have);
    }
  }

  Plan take() {
    out_.condition = roll_up(out_.topics);
    out_.summary = summary(out_.topics);
    return std::move(out_);
  }

 private:
  void create(TopicStatus& st, const pipeline::TopicSpec& want) {
    out_.create.push_back(
        kafka::NewTopic{want.name, want.partitions, want.replication_factor, want.config});
    st.managed = true;
    st.origin = TopicOrigin::Created;
    finish(st, TopicState::Pending,
           {{"Creating", fmt::format("creating topic {} with {}.", want.name,
                                     layout(want.partitions, want.replication_factor))}});
  }

  void adopt_or_refuse(TopicStatus& st, const pipeline::TopicSpec& want,
                       const ObservedTopic& have) {
    const auto config_diff = config_differences(want.config, have.dynamic_config);
    if (have.partitions != want.partitions || have.replication_factor != want.replication_factor ||
        !config_diff.empty()) {
      finish(st, TopicState::Error, {foreign_mismatch(want, have, config_diff)});
      return;
    }
    out_.adopted.push_back(want.name);
    st.managed = true;
    st.origin = TopicOrigin::Adopted;
    finish(st, TopicState::Ready,
           {{"Adopted", fmt::format("adopted existing topic {} ({}), which matches the spec.",
                                    want.name, layout(have.partitions, have.replication_factor))}});
  }

  void reconcile(TopicStatus& st, const pipeline::TopicSpec& want, const ObservedTopic& have) {
    std::vector<Finding> refusals;
    std::vector<Finding> changes;

    if (have.partitions > want.partitions) {
      refusals.push_back(
          {"PartitionDecreaseRefused",
           fmt::format("topic {} has {} partitions; Kafka cannot reduce partitions (spec asks for "
                       "{}). Restore partitions: {} or recreate the topic.",
                       want.name, have.partitions, want.partitions, have.partitions)});
    } else if (have.partitions < want.partitions) {
      out_.create_partitions.push_back({want.name, want.partitions});
      changes.push_back({"IncreasingPartitions",
                         fmt::format("increasing partitions of topic {} from {} to {}.",
                                     want.name, have.partitions, want.partitions)});
    }

    if (have.replication_factor != want.replication_factor) {
      refusals.push_back(
          {"ReplicationFactorChangeRefused",
           fmt::format("topic {} has replication factor {} (spec asks for {}); changing it needs "
                       "a partition reassignment, which Outflow does not do. Restore "
                       "replicationFactor: {}, or reassign the partitions yourself "
                       "(kafka-reassign-partitions.sh).",
                       want.name, have.replication_factor, want.replication_factor,
                       have.replication_factor)});
    }

    const auto config_diff = config_differences(want.config, have.dynamic_config);
    if (!config_diff.empty()) {
      out_.alter_configs.push_back({want.name, want.config});
      changes.push_back(
          {"UpdatingConfig",
           fmt::format("correcting config of topic {}: {}; settings the spec does not list go "
                       "back to the broker default.",
                       want.name, join(config_diff, "; "))});
    }

    if (!refusals.empty()) {
      refusals.insert(refusals.end(), changes.begin(), changes.end());
      finish(st, TopicState::Error, refusals);
    } else if (!changes.empty()) {
      finish(st, TopicState::Pending, changes);
    } else {
      finish(st, TopicState::Ready,
             {{"UpToDate", fmt::format("topic {} matches the spec ({}).", want.name,
                                       layout(have.partitions, have.replication_factor))}});
    }
  }

  // The first finding gives the reason; the message carries all of them.
  void finish(TopicStatus& st, TopicState state, const std::vector<Finding>& findings) {
    st.state = state;
    st.reason = findings.front().reason;
    st.message = join_messages(findings);
    out_.topics.push_back(std::move(st));
  }

  const Input& in_;
  Plan out_;
};

}  // namespace

Plan plan(const Input& input) {
  Planner planner(input);
  std::set<std::string> seen;
  for (const pipeline::TopicSpec& want : input.desired) {
    // parse_spec rejects duplicate names; should one slip through anyway, the
    // first entry wins rather than two conflicting calls for one topic.
    if (seen.insert(want.name).second) planner.topic(want);
  }
  return planner.take();
}

}  // namespace outflow::op::topics
