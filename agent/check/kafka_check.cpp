#include "agent/check/kafka_check.h"

#include "agent/check/kafka_client.h"
#include "common/kafka/admin.h"

#include <fmt/format.h>

#include <chrono>
#include <optional>

namespace outflow::agent::check {

namespace {

std::string servers(const kafka::ConnectionSettings& s) {
  std::string out;
  for (const auto& b : s.bootstrap_servers) out += (out.empty() ? "" : ",") + b;
  return out;
}

}  // namespace

std::vector<Item> check_kafka(const kafka::ConnectionSettings& settings,
                              const std::vector<pipeline::TopicSpec>& declared) {
  std::vector<Item> out;
  const auto timeout = std::chrono::milliseconds(settings.connect_timeout_ms);
  std::optional<KafkaClient> client;
  try {
    client.emplace(settings);
    const auto id = kafka::cluster_id(client->get(), timeout);
    out.push_back({"kafka", Outcome::Ok, fmt::format("connected to {} (cluster {})", servers(settings), id)});
  } catch (const kafka::ConfigError& e) {
    out.push_back({"kafka", Outcome::Failed, e.what()});
  } catch (const kafka::AdminError& e) {
    const auto reason = client->first_error();
    out.push_back({"kafka", Outcome::Failed,
                   fmt::format("cannot connect to {}: {}", servers(settings), reason.empty() ? e.what() : reason)});
  }
  if (out.back().outcome == Outcome::Failed) {
    for (const auto& t : declared) out.push_back({"topic " + t.name, Outcome::Skipped, "needs a Kafka connection"});
    return out;
  }

  std::vector<std::string> names;
  for (const auto& t : declared) names.push_back(t.name);
  try {
    TopicPartitions partitions;
    for (const auto& [name, topic] : kafka::describe_topics(client->get(), names, timeout)) {
      partitions[name] = topic.partitions;
    }
    auto items = topics(declared, partitions);
    out.insert(out.end(), items.begin(), items.end());
  } catch (const kafka::AdminError& e) {
    // A topic the principal may not describe fails the whole request.
    out.push_back({"topics", Outcome::Failed, client->explain(fmt::format("cannot describe them: {}", e.what()))});
  }
  return out;
}

}  // namespace outflow::agent::check
