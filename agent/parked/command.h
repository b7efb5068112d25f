#pragma once

// `outflow-agent parked list|replay|purge`: the subcommand's flags, their
// checks, and the runs. It runs where the agent runs
// (`kubectl exec deploy/<pipeline>-agent -- outflow-agent parked list`) and
// loads the agent's own config, so it reaches Kafka exactly as the agent does.
//
// Exit codes: 0 done; 1 bad arguments or config (one line); 2 Kafka could not
// do it (one line). Results go to `out`, problems to `err`; nothing secret
// reaches either.

#include "agent/config/agent_config.h"
#include "agent/parked/parked.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

namespace outflow::agent::parked {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitKafka = 2;

// Where the operator mounts the agent config in the pod.
inline constexpr const char* kDefaultConfigPath = "/etc/outflow/agent.yaml";

enum class Action { None, List, Replay, Purge };

struct ParkedOptions {
  Action action = Action::None;
  std::vector<std::string> original_topics;  // repeatable, each may be a comma list
  std::string since;
  std::string until;
  std::string before;  // purge only
  std::optional<std::int32_t> partition;
  std::optional<std::int64_t> from_offset;
  std::string output = "text";  // text | json
  bool dry_run = false;
  std::vector<std::string> unknown;  // words after `parked` that name no subcommand
};

struct ParkedCommand {
  CLI::App* parked = nullptr;
  CLI::App* list = nullptr;
  CLI::App* replay = nullptr;
  CLI::App* purge = nullptr;
};

// Adds `parked` and its three subcommands to the agent's app. Flags of the
// main command (--config, --log-level) may also come after them.
ParkedCommand add_parked_command(CLI::App& app, ParkedOptions& options);

// The checked request: the filter, and for purge the cut-off.
struct Request {
  Action action = Action::None;
  Filter filter;
  std::optional<std::int64_t> before_ms;
  bool json = false;
  bool dry_run = false;
};
// Pure: the request, or the one line saying what is wrong with the flags.
std::variant<Request, std::string> check(const ParkedOptions& options);

// Runs a checked request against the pipeline of `config`.
int run(const Request& request, const AgentConfig& config, std::ostream& out, std::ostream& err);

// The agent's config at `path`; POD_NAME reads kCommandPodName when unset.
// Throws ConfigError.
inline constexpr const char* kCommandPodName = "outflow-parked-command";
AgentConfig load_command_config(const std::string& path);

// check(), load the config at `config_path` (empty: kDefaultConfigPath), run().
int run_parked(const ParkedOptions& options, const std::string& config_path, std::ostream& out, std::ostream& err);

}  // namespace outflow::agent::parked
