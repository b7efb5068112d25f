#include "agent/check/kafka_check.h"

#include "agent/check/access.h"
#include "agent/check/access_probes.h"
#include "agent/check/kafka_client.h"
#include "common/kafka/admin.h"
#include "operator/topics/desired_topics.h"

#include <fmt/format.h>

#include <algorithm>
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

std::vector<Item> check_kafka(const kafka::ConnectionSettings& settings, const pipeline::PipelineSpec& spec) {
  const auto declared = op::topics::desired_topics(spec);
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
  const auto principal = principal_of(settings);
  TopicLookup found;
  try {
    found = look_up_topics(client->get(), names, timeout);
  } catch (const kafka::AdminError& e) {
    out.push_back({"topics", Outcome::Failed, client->explain(fmt::format("cannot describe them: {}", e.what()))});
    return out;
  }
  auto items = topics(declared, found.partitions, found.hidden, principal);
  out.insert(out.end(), items.begin(), items.end());

  // Access is probed on the topics that exist or that the principal may not
  // describe; a missing topic has its line already.
  std::vector<std::string> existing, probed;
  for (const auto& name : names) {
    if (found.partitions.contains(name)) existing.push_back(name);
    if (found.partitions.contains(name) || found.hidden.contains(name)) probed.push_back(name);
  }
  const auto needs = access_needs(spec);
  std::vector<std::string> writes, reads;
  for (const auto& need : needs) {
    if (std::find(existing.begin(), existing.end(), need.topic) == existing.end()) continue;
    for (const auto op : need.operations) {
      if (op == Operation::Write) writes.push_back(need.topic);
      if (op == Operation::Read) reads.push_back(need.topic);
    }
  }
  // The probes open connections of their own and wait for answers to real
  // requests: they get the request timeout, not the connect timeout.
  const auto probe_timeout = std::chrono::milliseconds(settings.request_timeout_ms);
  AccessFound access_found;
  for (const auto& [name, probe] : probe_describe_configs(client->get(), probed, probe_timeout)) {
    access_found[name][Operation::DescribeConfigs] = probe;
  }
  for (const auto& [name, probe] : probe_write(settings, writes, probe_timeout)) {
    access_found[name][Operation::Write] = probe;
  }
  for (const auto& [name, probe] : probe_read(settings, reads, probe_timeout)) {
    access_found[name][Operation::Read] = probe;
  }
  // WRITE and READ imply DESCRIBE in Kafka: without DESCRIBE there is neither.
  for (const auto& name : found.hidden) {
    access_found[name][Operation::Write] = {Access::Denied, {}};
    access_found[name][Operation::Read] = {Access::Denied, {}};
  }
  auto access_items = access(needs, access_found, principal, settings.bootstrap_servers.front());
  out.insert(out.end(), access_items.begin(), access_items.end());
  return out;
}

}  // namespace outflow::agent::check
