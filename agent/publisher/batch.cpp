#include "agent/publisher/batch.h"

#include <fmt/format.h>

#include <set>

namespace outflow::agent::publisher {

BatchPlan plan_batch(const std::vector<OutboxRow>& rows, const pipeline::PipelineSpec& spec,
                     const PlanContext& context) {
  BatchPlan plan;
  plan.outcomes.assign(rows.size(), NotSent{});
  std::set<std::string> blocked;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    if (row.key && blocked.contains(*row.key)) continue;  // behind a poison or waiting row of its key
    auto prepared = prepare(row, spec);
    if (auto* undeclared = std::get_if<UndeclaredTopic>(&prepared)) {
      const auto age_ms = context.now_ms - row.created_at_ms;
      if (context.undeclared_topic_grace_ms > 0 && age_ms < context.undeclared_topic_grace_ms) {
        plan.waiting.emplace_back(row.id, fmt::format("{}; waiting up to {} s for a config that declares it",
                                                      undeclared_topic_reason(undeclared->topic),
                                                      context.undeclared_topic_grace_ms / 1000));
        if (row.key) blocked.insert(*row.key);
        continue;
      }
      prepared = Poison{undeclared_topic_reason(undeclared->topic)};
    }
    if (auto* message = std::get_if<KafkaMessage>(&prepared)) {
      if (auto refused = refused_by_topic(row, *message, context.limits)) prepared = std::move(*refused);
    }
    if (auto* poison = std::get_if<Poison>(&prepared)) {
      plan.outcomes[i] = std::move(*poison);
      if (row.key) blocked.insert(*row.key);
      continue;
    }
    plan.to_send.emplace_back(i, std::move(std::get<KafkaMessage>(prepared)));
  }
  return plan;
}

Settlement settle(const std::vector<OutboxRow>& rows, const std::vector<Outcome>& outcomes) {
  std::set<std::string> stuck;
  return settle(rows, outcomes, stuck);
}

Settlement settle(const std::vector<OutboxRow>& rows, const std::vector<Outcome>& outcomes,
                  std::set<std::string>& stuck) {  // keys with an earlier row that is not published
  Settlement s;
  std::set<std::string> overtaken;
  for (std::size_t i = 0; i < rows.size() && i < outcomes.size(); ++i) {
    const auto& row = rows[i];
    const auto& outcome = outcomes[i];
    if (const auto* delivered = std::get_if<Delivered>(&outcome)) {
      s.published.push_back(row.id);
      s.latencies_seconds.push_back(
          static_cast<double>(std::max<std::int64_t>(0, delivered->acknowledged_at_ms - row.created_at_ms)) / 1000.0);
      if (row.key && stuck.contains(*row.key)) overtaken.insert(*row.key);
      continue;
    }
    if (row.key) stuck.insert(*row.key);
    if (const auto* poison = std::get_if<Poison>(&outcome)) {
      s.poison.emplace_back(row.id, poison->reason);
      s.last_error = poison->reason;
    } else if (const auto* failed = std::get_if<Failed>(&outcome)) {
      ++s.failed;
      s.last_error = failed->error;
    } else if (const auto* refused = std::get_if<Refused>(&outcome)) {
      ++s.refused;
      s.last_refused_id = std::max(s.last_refused_id, row.id);
      s.last_error = refused->error;
    } else {
      ++s.not_sent;
    }
  }
  s.overtaken_keys.assign(overtaken.begin(), overtaken.end());
  return s;
}

}  // namespace outflow::agent::publisher
