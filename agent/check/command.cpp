#include "agent/check/command.h"

#include "agent/check/checklist.h"
#include "agent/check/kafka_check.h"
#include "agent/check/postgres_check.h"
#include "agent/config/agent_config.h"

#include <fmt/format.h>

#include <filesystem>

namespace outflow::agent::check {

int run_check(const std::string& config_path, std::ostream& out) {
  std::optional<AgentConfig> config;
  try {
    config = load_agent_config(std::filesystem::path(config_path));
  } catch (const ConfigError& e) {
    out << render({{"config", Outcome::Failed, e.what()}});
    return kExitConfig;
  }
  std::vector<Item> items{{"config", Outcome::Ok,
                           fmt::format("{} is valid (pipeline {}/{}{})", config_path, config->pipeline.namespace_name,
                                       config->pipeline.name,
                                       config->status ? ", reports into EventPipeline " + config->status->namespace_name +
                                                            "/" + config->status->name
                                                      : ", no status section")}};
  const auto timeout = std::chrono::seconds(std::max(1, config->kafka.connect_timeout_ms / 1000));
  auto pg = check_postgres(config->database_url, config->spec.outbox, timeout);
  items.insert(items.end(), pg.begin(), pg.end());
  auto kafka = check_kafka(config->kafka, config->spec);
  items.insert(items.end(), kafka.begin(), kafka.end());
  out << render(items);
  return exit_code(items);
}

}  // namespace outflow::agent::check
