#include "agent/topics/apply_command.h"

#include "agent/check/kafka_client.h"
#include "agent/config/agent_config.h"
#include "common/kafka/admin.h"
#include "operator/topics/desired_topics.h"
#include "operator/topics/plan.h"

#include <fmt/format.h>

#include <filesystem>
#include <optional>

namespace outflow::agent::topics {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitConfig = 1;
constexpr int kExitFailed = 2;

// Topics the config names without a layout cannot be created.
std::vector<std::string> unstated_layouts(const pipeline::PipelineSpec& spec) {
  std::vector<std::string> problems;
  for (std::size_t i = 0; i < spec.topics.size(); ++i) {
    if (spec.topics[i].partitions == 0) problems.push_back(fmt::format("topics[{}].partitions", i));
    if (spec.topics[i].replication_factor == 0) problems.push_back(fmt::format("topics[{}].replicationFactor", i));
  }
  return problems;
}

std::string describe(const op::topics::Plan& plan, const std::string& name) {
  for (const auto& c : plan.create) {
    if (c.name == name) return fmt::format("create ({} partitions, replication factor {})", c.partitions, c.replication_factor);
  }
  std::string what;
  for (const auto& p : plan.create_partitions) {
    if (p.topic == name) what = fmt::format("grow to {} partitions", p.new_total);
  }
  for (const auto& a : plan.alter_configs) {
    if (a.topic == name) what += (what.empty() ? "" : ", ") + std::string("set its config");
  }
  return what;
}

int report_outcomes(const std::vector<kafka::TopicOutcome>& outcomes, const char* what, std::ostream& out) {
  int failed = 0;
  for (const auto& o : outcomes) {
    if (o.ok()) continue;
    out << fmt::format("  FAIL  {}: {} failed: {}\n", o.name, what, o.message.empty() ? rd_kafka_err2str(o.error) : o.message);
    ++failed;
  }
  return failed;
}

}  // namespace

int run_apply(const std::string& config_path, bool dry_run, std::ostream& out) {
  std::optional<AgentConfig> config;
  try {
    config = load_agent_config(std::filesystem::path(config_path));
  } catch (const ConfigError& e) {
    out << "topics apply: invalid configuration: " << e.what() << '\n';
    return kExitConfig;
  }
  if (const auto missing = unstated_layouts(config->spec); !missing.empty()) {
    std::string fields;
    for (const auto& m : missing) fields += (fields.empty() ? "" : ", ") + m;
    out << "topics apply: the config states no layout for " << fields
        << " (topics apply creates topics only with a stated partitions and replicationFactor)\n";
    return kExitConfig;
  }

  const auto desired = op::topics::desired_topics(config->spec);
  const auto timeout = std::chrono::milliseconds(config->kafka.request_timeout_ms);
  std::optional<check::KafkaClient> client;
  op::topics::Input input;
  input.desired = desired;
  input.self = {config->pipeline.namespace_name + "/" + config->pipeline.name, "", ""};
  try {
    client.emplace(config->kafka);
    std::vector<std::string> names;
    for (const auto& t : desired) names.push_back(t.name);
    for (const auto& [name, topic] : kafka::describe_topics(client->get(), names, timeout)) {
      input.observed[name] = {topic.partitions, topic.replication_factor, topic.dynamic_config};
      // Declared in the user's own config: theirs to change, as the
      // operator's managed topics are.
      input.managed.insert(name);
    }
  } catch (const kafka::ConfigError& e) {
    out << "topics apply: " << e.what() << '\n';
    return kExitFailed;
  } catch (const kafka::AdminError& e) {
    out << "topics apply: " << client->explain(fmt::format("cannot describe the topics: {}", e.what())) << '\n';
    return kExitFailed;
  }

  const auto plan = op::topics::plan(input);
  int refused = 0;
  for (const auto& st : plan.topics) {
    if (st.state == op::topics::TopicState::Error) {
      out << fmt::format("  FAIL  {}: {}\n", st.name, st.message);
      ++refused;
    } else if (st.state == op::topics::TopicState::Ready) {
      out << fmt::format("  ok    {}: as declared ({} partitions)\n", st.name, st.partitions);
    } else {
      out << fmt::format("  {}  {}: {}\n", dry_run ? "plan" : "do  ", st.name, describe(plan, st.name));
    }
  }
  if (dry_run || !plan.has_calls()) {
    out << (refused ? "topics apply: refused changes above, nothing else to do\n"
                    : dry_run ? "topics apply: dry run, nothing changed\n" : "topics apply: nothing to change\n");
    return refused ? kExitFailed : kExitOk;
  }

  int failed = 0;
  try {
    if (!plan.create.empty()) {
      failed += report_outcomes(kafka::create_topics(client->get(), plan.create, timeout), "create", out);
    }
    if (!plan.create_partitions.empty()) {
      std::vector<std::pair<std::string, int>> totals;
      for (const auto& p : plan.create_partitions) totals.emplace_back(p.topic, p.new_total);
      failed += report_outcomes(kafka::create_partitions(client->get(), totals, timeout), "grow", out);
    }
    if (!plan.alter_configs.empty()) {
      std::vector<std::pair<std::string, std::map<std::string, std::string>>> configs;
      for (const auto& a : plan.alter_configs) configs.emplace_back(a.topic, a.config);
      failed += report_outcomes(kafka::alter_topic_configs(client->get(), configs, timeout), "set config", out);
    }
  } catch (const kafka::AdminError& e) {
    out << "topics apply: " << client->explain(e.what()) << '\n';
    return kExitFailed;
  }
  out << fmt::format("topics apply: {}\n", failed + refused == 0 ? "done" : "some changes failed or were refused");
  return failed + refused == 0 ? kExitOk : kExitFailed;
}

}  // namespace outflow::agent::topics
