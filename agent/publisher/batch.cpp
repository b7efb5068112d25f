#include "agent/publisher/batch.h"

#include <set>

namespace outflow::agent::publisher {

BatchPlan plan_batch(const std::vector<OutboxRow>& rows, const pipeline::PipelineSpec& spec) {
  BatchPlan plan;
  plan.outcomes.assign(rows.size(), NotSent{});
  std::set<std::string> blocked;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& key = rows[i].key;
    if (key && blocked.contains(*key)) continue;  // behind a poison row of its key
    auto prepared = prepare(rows[i], spec);
    if (auto* poison = std::get_if<Poison>(&prepared)) {
      plan.outcomes[i] = std::move(*poison);
      if (key) blocked.insert(*key);
      continue;
    }
    plan.to_send.emplace_back(i, std::move(std::get<KafkaMessage>(prepared)));
  }
  return plan;
}

Settlement settle(const std::vector<OutboxRow>& rows, const std::vector<Outcome>& outcomes) {
  Settlement s;
  std::set<std::string> stuck;  // keys with an earlier row that is not published
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
    } else {
      ++s.not_sent;
    }
  }
  s.overtaken_keys.assign(overtaken.begin(), overtaken.end());
  return s;
}

}  // namespace outflow::agent::publisher
