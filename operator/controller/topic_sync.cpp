#include "operator/controller/topic_sync.h"

#include "common/kafka/admin.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <thread>

namespace outflow::op::controller {
namespace {

constexpr int kConfirmAttempts = 3;
constexpr std::chrono::milliseconds kFirstConfirmPause{100};

void mark_failures(std::vector<topics::TopicStatus>& statuses, const std::vector<kafka::TopicOutcome>& outcomes,
                   const std::string& reason, const std::string& what, bool created) {
  for (const auto& outcome : outcomes) {
    if (outcome.ok()) continue;
    for (auto& s : statuses) {
      if (s.name != outcome.name) continue;
      if (created && outcome.error == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        // Someone created it between our describe and our create: not ours;
        // the next check decides whether it can be adopted.
        s.managed = false;
        s.origin = topics::TopicOrigin::Unknown;
        s.state = topics::TopicState::Pending;
        s.reason = "TopicAppeared";
        s.message = fmt::format("topic {} was created by someone else meanwhile; checking it again", s.name);
        continue;
      }
      if (created) {
        s.managed = false;
        s.origin = topics::TopicOrigin::Unknown;
      }
      s.state = topics::TopicState::Error;
      s.reason = reason;
      s.message = fmt::format("{} topic {} failed: {} ({}); fix the spec or the broker and the operator retries",
                              what, s.name, outcome.message.empty() ? rd_kafka_err2str(outcome.error) : outcome.message,
                              rd_kafka_err2name(outcome.error));
    }
  }
}

std::vector<std::string> names_of(const std::vector<kafka::TopicOutcome>& outcomes) {
  std::vector<std::string> names;
  for (const auto& o : outcomes) {
    if (o.ok()) names.push_back(o.name);
  }
  return names;
}

// One pass instead of two: after the Admin calls succeeded, describe the
// topics again and plan once more. When the broker already shows every change
// the statuses say Ready now, rather than at the next check, which at scale
// sits behind every other pipeline in the queue. When it does not show them
// yet (metadata lags a little behind CreateTopics) or cannot be asked, the
// first plan's Pending statuses stand and the regular pending re-check
// follows. `result` must hold the statuses of the calls just made.
bool confirm_changes(rd_kafka_t* admin, topics::Input input, TopicSyncResult& result,
                     std::chrono::milliseconds timeout, Metrics& metrics) {
  for (const auto& s : result.statuses) {
    if (s.state == topics::TopicState::Error) return false;  // a call failed: report it as it is
    if (!s.managed) return false;  // someone else's topic appeared meanwhile: the next check decides
    input.managed.insert(s.name);
    if (s.origin != topics::TopicOrigin::Unknown) input.origins[s.name] = s.origin;
  }
  std::vector<std::string> names;
  for (const auto& t : input.desired) names.push_back(t.name);
  // The broker's metadata follows a successful CreateTopics within
  // milliseconds, but now and then not before the first look (2 of 1000
  // pipelines in the operator benchmark): a few short looks, at most
  // kConfirmAttempts, cost far less than a re-check behind the whole queue.
  auto pause = kFirstConfirmPause;
  for (int attempt = 1;; ++attempt, pause *= 2) {
    input.observed.clear();
    try {
      for (const auto& [name, d] : kafka::describe_topics(admin, names, timeout)) {
        input.observed[name] = topics::ObservedTopic{d.partitions, d.replication_factor, d.dynamic_config};
      }
      metrics.admin_call("describe", true);
    } catch (const kafka::AdminError&) {
      metrics.admin_call("describe", false);
      return false;
    }
    auto confirmed = topics::plan(input);
    const bool ready = !confirmed.has_calls() &&
                       std::all_of(confirmed.topics.begin(), confirmed.topics.end(),
                                   [](const auto& s) { return s.state == topics::TopicState::Ready; });
    if (ready) {
      result.statuses = std::move(confirmed.topics);
      return true;
    }
    if (attempt == kConfirmAttempts) return false;
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace

TopicSyncResult unchecked_topics(const std::vector<pipeline::TopicSpec>& desired,
                                 const std::vector<topics::TopicStatus>& last_known,
                                 const std::string& reason, const std::string& message,
                                 topics::CheckOutcome outcome) {
  TopicSyncResult result;
  std::map<std::string, topics::TopicStatus> known;
  for (const auto& s : last_known) known.emplace(s.name, s);
  for (const auto& t : desired) {
    auto found = known.find(t.name);
    if (found != known.end()) {
      result.statuses.push_back(found->second);
    } else {
      topics::TopicStatus s;
      s.name = t.name;
      s.partitions = t.partitions;
      s.replication_factor = t.replication_factor;
      s.state = topics::TopicState::Pending;
      s.reason = reason;
      s.message = "not checked yet";
      result.statuses.push_back(s);
    }
  }
  result.condition = {false, reason, message};
  result.summary = topics::summary(result.statuses);
  result.outcome = outcome;
  return result;
}

TopicSyncResult sync_topics(rd_kafka_t* admin, topics::Input input, const ClaimsFor& claims_for,
                            const std::vector<topics::TopicStatus>& last_known,
                            std::chrono::milliseconds timeout, Metrics& metrics,
                            kafka::CreateTopicsBatcher& creates, const std::function<void()>& before_write) {
  const auto may_write = [&] {
    if (before_write) before_write();
  };
  std::vector<std::string> names;
  for (const auto& t : input.desired) names.push_back(t.name);
  const auto desired = input.desired;
  std::string cluster_id;
  try {
    // Asked on every check, not remembered: cheap (one metadata request), and
    // the address may have come to point at another cluster.
    cluster_id = kafka::cluster_id(admin, timeout);
    metrics.admin_call("cluster_id", true);
    const auto described = kafka::describe_topics(admin, names, timeout);
    metrics.admin_call("describe", true);
    for (const auto& [name, d] : described) {
      input.observed[name] = topics::ObservedTopic{d.partitions, d.replication_factor, d.dynamic_config};
    }
  } catch (const kafka::AdminError& e) {
    metrics.admin_call("describe", false);
    return unchecked_topics(desired, last_known, "KafkaUnreachable",
                            fmt::format("cannot reach the Kafka cluster to check topics: {} ({}); "
                                        "check spec.kafka.bootstrapServers, TLS/SASL settings and the brokers; "
                                        "retrying with back-off",
                                        e.what(), rd_kafka_err2name(e.code())),
                            topics::CheckOutcome::Unreachable);
  }

  input.claims = claims_for(cluster_id);
  auto plan = topics::plan(input);
  TopicSyncResult result;
  result.cluster_id = cluster_id;
  result.statuses = plan.topics;
  result.adopted = plan.adopted;
  try {
    if (!plan.create.empty()) {
      may_write();
      const auto outcomes = creates.create(admin, plan.create, timeout);
      metrics.admin_call("create_topics", true);
      mark_failures(result.statuses, outcomes, "CreateFailed", "creating", true);
      result.created = names_of(outcomes);
    }
    if (!plan.create_partitions.empty()) {
      std::vector<std::pair<std::string, int>> totals;
      for (const auto& p : plan.create_partitions) totals.emplace_back(p.topic, p.new_total);
      may_write();
      const auto outcomes = kafka::create_partitions(admin, totals, timeout);
      metrics.admin_call("create_partitions", true);
      mark_failures(result.statuses, outcomes, "PartitionIncreaseFailed", "adding partitions to", false);
      result.grown = names_of(outcomes);
    }
    if (!plan.alter_configs.empty()) {
      std::vector<std::pair<std::string, std::map<std::string, std::string>>> configs;
      for (const auto& c : plan.alter_configs) configs.emplace_back(c.topic, c.config);
      may_write();
      const auto outcomes = kafka::alter_topic_configs(admin, configs, timeout);
      metrics.admin_call("alter_configs", true);
      mark_failures(result.statuses, outcomes, "ConfigUpdateFailed", "updating the config of", false);
      result.reconfigured = names_of(outcomes);
    }
  } catch (const kafka::AdminError& e) {
    metrics.admin_call("change", false);
    return unchecked_topics(desired, result.statuses, "KafkaUnreachable",
                            fmt::format("the Kafka cluster stopped answering while topics were being changed: "
                                        "{} ({}); retrying with back-off",
                                        e.what(), rd_kafka_err2name(e.code())),
                            topics::CheckOutcome::Unreachable);
  }

  bool pending = plan.has_calls();
  if (pending && confirm_changes(admin, input, result, timeout, metrics)) pending = false;
  result.condition = topics::roll_up(result.statuses);
  result.summary = topics::summary(result.statuses);
  result.cluster_id = cluster_id;
  bool error = false;
  for (const auto& s : result.statuses) {
    pending = pending || s.state == topics::TopicState::Pending;
    error = error || s.state == topics::TopicState::Error;
  }
  result.outcome = pending ? topics::CheckOutcome::Pending
                   : error ? topics::CheckOutcome::Refused
                           : topics::CheckOutcome::Ready;
  return result;
}

}  // namespace outflow::op::controller
