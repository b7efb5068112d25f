// outflow-agent: moves committed outbox rows from PostgreSQL into Kafka,
// replays dead letters, and (with a status section) reports its state into an
// EventPipeline.

#include "agent/agent.h"
#include "agent/check/command.h"
#include "agent/config/agent_config.h"
#include "agent/options.h"
#include "agent/parked/command.h"
#include "agent/topics/apply_command.h"
#include "common/log/logging.h"
#include "common/openssl_init.h"
#include "outflow/version.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>

int main(int argc, char** argv) {
  outflow::init_openssl();
  CLI::App app{"outflow-agent: publishes a PostgreSQL transactional outbox to Kafka and replays "
               "dead letters for one EventPipeline"};
  app.set_version_flag("--version", std::string("outflow-agent ") + outflow::kVersion);
  outflow::agent::Options options;
  outflow::agent::add_flags(app, options);
  outflow::agent::parked::ParkedOptions parked_options;
  const auto parked = outflow::agent::parked::add_parked_command(app, parked_options);
  auto* check = app.add_subcommand("check",
                                   "Check the config, PostgreSQL and Kafka as the agent will use them; prints a "
                                   "checklist (exit 0 ready, 1 invalid config, 2 a check failed)");
  check->fallthrough();
  auto* topics = app.add_subcommand("topics", "Manage the declared topics without the operator");
  topics->fallthrough();
  topics->require_subcommand(1);
  auto* apply = topics->add_subcommand(
      "apply", "Create the declared topics and grow them to the declared layout (the operator's planner and refusals)");
  apply->fallthrough();
  bool dry_run = false;
  apply->add_flag("--dry-run", dry_run, "Print the plan, change nothing");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    // The parked subcommand promises 1 for any bad argument (scripts around
    // it check that); the agent itself keeps CLI11's codes, as it always had.
    return parked.parked->parsed() && code != 0 ? outflow::agent::parked::kExitUsage : code;
  }

  if (check->parsed() || apply->parsed()) {
    // Commands a person runs: their checklist is the output; librdkafka's
    // and libpq's retries stay out of it unless --log-level asks for them.
    outflow::log::configure("agent", *outflow::log::parse_format(options.log_format),
                            app.get_option("--log-level")->count() > 0
                                ? *outflow::log::parse_level(options.log_level)
                                : spdlog::level::off);
    const std::string path =
        options.config_path.empty() ? outflow::agent::parked::kDefaultConfigPath : options.config_path;
    return check->parsed() ? outflow::agent::check::run_check(path, std::cout)
                           : outflow::agent::topics::run_apply(path, dry_run, std::cout);
  }

  if (parked.parked->parsed()) {
    // A command a person runs inside the pod: its results and one-line
    // errors are its output, so logs (librdkafka's connection retries among
    // them) stay off unless --log-level asks for them.
    outflow::log::configure("agent", *outflow::log::parse_format(options.log_format),
                            app.get_option("--log-level")->count() > 0
                                ? *outflow::log::parse_level(options.log_level)
                                : spdlog::level::off);
    return outflow::agent::parked::run_parked(parked_options, options.config_path, std::cout, std::cerr);
  }

  outflow::log::configure("agent", *outflow::log::parse_format(options.log_format),
                          *outflow::log::parse_level(options.log_level));
  spdlog::info("outflow-agent {} starting", outflow::kVersion);
  // Signals are taken by sigwait() below: block them before any thread
  // exists, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::optional<outflow::agent::AgentConfig> config;
  try {
    config = outflow::agent::load_agent_config(std::filesystem::path(options.config_path));
  } catch (const outflow::agent::ConfigError& e) {
    // One line that names every bad setting: a crash loop whose log says
    // exactly what to fix.
    spdlog::critical("invalid configuration: {}", e.what());
    return 1;
  }
  if (config->status) {
    spdlog::info("pipeline {}/{}, pod {}, reporting into EventPipeline {}/{}", config->pipeline.namespace_name,
                 config->pipeline.name, config->pod_name, config->status->namespace_name, config->status->name);
  } else {
    spdlog::info("pipeline {}/{}, pod {}, no status section: not using the Kubernetes API",
                 config->pipeline.namespace_name, config->pipeline.name, config->pod_name);
  }
  try {
    outflow::agent::Agent agent(options, std::move(*config));
    agent.start();
    int signal = 0;
    sigwait(&signals, &signal);
    spdlog::info("received {}, draining in-flight deliveries", strsignal(signal));
    agent.stop();
  } catch (const std::exception& e) {
    // What the agent cannot start with (kubeconfig, a listen address in use,
    // Kafka settings librdkafka refuses): one line, then a non-zero exit.
    spdlog::critical("{}", e.what());
    return 1;
  }
  spdlog::info("stopped");
  return 0;
}
