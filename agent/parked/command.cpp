#include "agent/parked/command.h"

#include "agent/parked/parked_kafka.h"
#include "agent/replayer/routing.h"
#include "agent/replayer/schedule.h"
#include "common/kafka/client_config.h"

#include <fmt/format.h>

#include <map>
#include <stdexcept>

namespace outflow::agent::parked {

namespace {

constexpr const char* kTimeHelp =
    "RFC 3339 (2026-11-24T10:00:00Z); compared with the time the message was parked (its timestamp in the "
    "parked topic)";

void add_filters(CLI::App& command, ParkedOptions& o) {
  command.add_option("--original-topic", o.original_topics,
                     "Only messages that failed on this topic (repeatable, or a comma list)");
  command.add_option("--since", o.since, std::string("Only messages parked at or after this time; ") + kTimeHelp);
  command.add_option("--until", o.until, std::string("Only messages parked before this time; ") + kTimeHelp);
  command.add_option_function<std::int32_t>(
      "--partition", [&o](const std::int32_t& p) { o.partition = p; },
      "Only this partition of the parked topic");
  command.add_option_function<std::int64_t>(
      "--from-offset", [&o](const std::int64_t& offset) { o.from_offset = offset; },
      "Only messages at or after this offset of the parked topic (in every partition read; with --partition, "
      "in that one)");
}

}  // namespace

ParkedCommand add_parked_command(CLI::App& app, ParkedOptions& o) {
  ParkedCommand c;
  c.parked = app.add_subcommand("parked",
                                "Act on the pipeline's parked dead letters (<deadLetter.topic>.parked): list, replay "
                                "through retry tier 1, or purge old ones. Loads the agent config (--config, default "
                                "/etc/outflow/agent.yaml). Exit 0 ok, 1 bad arguments or config, 2 Kafka error.");
  // Checked in the callback below rather than by require_subcommand(1),
  // whose "A subcommand is required" names none of them.
  c.parked->add_option("subcommand", o.unknown)->expected(0, -1);
  auto* parked = c.parked;
  c.parked->callback([&o, parked] {
    if (!o.unknown.empty()) {
      throw CLI::ValidationError(
          "parked", fmt::format("\"{}\" is not a subcommand: use list, replay or purge", o.unknown.front()));
    }
    if (parked->get_subcommands().empty()) throw CLI::ValidationError("parked", "name a subcommand: list, replay or purge");
  });
  // So `parked list --config x` works as well as `--config x parked list`.
  c.parked->fallthrough();

  c.list = c.parked->add_subcommand("list",
                                    "Print the parked messages the filters select, one line each (partition, offset, "
                                    "parked-at, original topic, attempt, key, reason), then the counts. Reads up to "
                                    "the end the topic had at start; joins no consumer group, commits nothing.");
  c.replay = c.parked->add_subcommand(
      "replay",
      "Send the parked messages the filters select to retry tier 1 (<deadLetter.topic>.retry.1), never to the "
      "original topic: the replayer republishes them after tier 1's delay, with a fresh attempt count. Key, value "
      "and headers are kept, except outflow-parked-reason (removed) and outflow-attempt (reset to 1); "
      "outflow-replayed-from says where each came from. Messages the replayer would only park again (no "
      "original-topic header, a topic outside the pipeline) and copies parked without their value are skipped "
      "and listed. Kafka cannot delete single "
      "messages: the replayed ones stay parked, and replaying again sends them again. Use the printed "
      "--partition/--from-offset (or --since) next time, and `purge --before` to delete old ones.");
  c.purge = c.parked->add_subcommand(
      "purge",
      "Delete, in every partition of the parked topic, the messages parked before --before. Kafka deletes only a "
      "prefix of a partition (DeleteRecords up to the first message parked at or after that time), so no other "
      "filter applies, except --partition. Cannot be undone; try --dry-run first.");
  for (auto* command : {c.list, c.replay, c.purge}) {
    command->fallthrough();
    add_filters(*command, o);
  }
  c.list->add_option("--output", o.output,
                     "text (a column header, one line per message, the counts) or json (one object per line; the "
                     "counts go to stderr)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  c.replay->add_option("--output", o.output, "How the replayed (or with --dry-run, selected) messages are printed")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  c.replay->add_flag("--dry-run", o.dry_run, "List what would be replayed; send nothing");
  c.purge->add_option("--before", o.before,
                      "Required. Delete the messages parked before this time (RFC 3339, e.g. 2026-11-01T00:00:00Z)");
  c.purge->add_flag("--dry-run", o.dry_run, "Show how many messages per partition would be deleted; delete nothing");

  c.list->callback([&o] { o.action = Action::List; });
  c.replay->callback([&o] { o.action = Action::Replay; });
  c.purge->callback([&o] { o.action = Action::Purge; });
  return c;
}

std::variant<Request, std::string> check(const ParkedOptions& o) {
  Request r;
  r.action = o.action;
  r.dry_run = o.dry_run;
  r.json = o.output == "json";
  if (o.action == Action::None) return std::string("parked: name an action: list, replay or purge");
  r.filter.original_topics = split_topics(o.original_topics);
  if (!o.original_topics.empty() && r.filter.original_topics.empty()) {
    return std::string("--original-topic: empty");
  }
  for (const auto& [text, flag, target] :
       {std::tuple{&o.since, "--since", &r.filter.since_ms}, std::tuple{&o.until, "--until", &r.filter.until_ms},
        std::tuple{&o.before, "--before", &r.before_ms}}) {
    if (text->empty()) continue;
    *target = parse_time_ms(*text);
    if (!*target) {
      return fmt::format("{}: \"{}\" is not an RFC 3339 time (e.g. 2026-11-24T10:00:00Z)", flag, *text);
    }
  }
  if (r.filter.since_ms && r.filter.until_ms && *r.filter.since_ms >= *r.filter.until_ms) {
    return std::string("--since must be before --until");
  }
  if (o.partition && *o.partition < 0) return std::string("--partition: must be 0 or more");
  if (o.from_offset && *o.from_offset < 0) return std::string("--from-offset: must be 0 or more");
  r.filter.partition = o.partition;
  r.filter.from_offset = o.from_offset;

  if (o.action == Action::Purge) {
    if (!r.before_ms) return std::string("purge: --before <RFC 3339 time> is required");
    if (r.filter.any_message_filter()) {
      return std::string(
          "purge: only --before (and --partition) apply: Kafka can delete only the oldest messages of a "
          "partition, up to an offset, never single messages, so --original-topic, --since, --until and "
          "--from-offset cannot be honoured");
    }
  }
  return r;
}

namespace {

struct Context {
  const AgentConfig& config;
  std::string parked_topic;
  Connection connection;
};

// The column header comes with the first message, so an error before any
// (an unreachable cluster) leaves stdout empty and stderr one line.
class Printer {
 public:
  Printer(const Request& r, std::ostream& out) : r_(r), out_(out) {}
  void operator()(const ParkedMessage& m) {
    if (!r_.json && !header_done_) out_ << header_line() << '\n';
    header_done_ = true;
    out_ << (r_.json ? dump_line(to_json(m)) : format_line(m)) << '\n';
  }

 private:
  const Request& r_;
  std::ostream& out_;
  bool header_done_ = false;
};

// In JSON mode stdout holds only the message objects (for jq); counts and
// notes go to err there, to out otherwise.
std::ostream& notes(const Request& r, std::ostream& out, std::ostream& err) { return r.json ? err : out; }

int list(const Request& r, const Context& c, std::ostream& out, std::ostream& err) {
  Printer print(r, out);
  const auto counts = scan(c.connection, c.parked_topic, r.filter, [&](const ParkedMessage& m) { print(m); });
  notes(r, out, err) << fmt::format("{} of {} parked message(s) in {} matched\n", counts.matched, counts.read,
                                    c.parked_topic);
  return kExitOk;
}

int replay(const Request& r, const Context& c, std::ostream& out, std::ostream& err) {
  const auto tier = replayer::retry_tier_topic(c.config.spec.dead_letter->topic, 1);
  require_topic(c.connection, tier);
  const auto rules = replayer::routing_rules(c.config.spec);
  std::optional<Producer> producer;
  if (!r.dry_run) producer.emplace(c.connection, tier);

  std::map<std::int32_t, OffsetRange> sent;
  std::vector<std::string> skipped;
  Printer print(r, out);
  const auto each = [&](const ParkedMessage& m) {
    const auto headers = replay_headers(m.headers, c.parked_topic, m.partition, m.offset);
    if (const auto refusal = replay_refusal(headers, rules)) {
      skipped.push_back(
          fmt::format("skipped partition {} offset {}: it would be parked again: {}", m.partition, m.offset, *refusal));
      return;
    }
    print(m);
    if (producer) producer->send(m, headers);
    auto [it, inserted] = sent.try_emplace(m.partition, OffsetRange{m.offset, m.offset, 0});
    it->second.last = m.offset;
    ++it->second.count;
  };
  ScanCounts counts;
  try {
    counts = scan(c.connection, c.parked_topic, r.filter, each);
  } catch (const KafkaError& e) {
    // Copies already handed to the producer may well arrive: say how many
    // did, so the person knows a rerun repeats them.
    if (producer) {
      const auto failed = producer->finish().size();
      err << fmt::format("parked: replay stopped after {} message(s) reached {} ({} not acknowledged): {}\n",
                         producer->acknowledged(), tier, failed, e.what());
      return kExitKafka;
    }
    throw;
  }
  auto& note = notes(r, out, err);
  for (const auto& line : skipped) note << line << '\n';
  std::int64_t selected = 0;
  for (const auto& [partition, range] : sent) selected += range.count;

  if (r.dry_run) {
    note << fmt::format("dry run: would replay {} of {} parked message(s) in {} to {} ({} skipped); sent nothing\n",
                        selected, counts.read, c.parked_topic, tier, skipped.size());
    return kExitOk;
  }
  const auto failures = producer->finish();
  for (const auto& f : failures) {
    if (f.partition < 0) {
      err << "replay: " << f.error << '\n';
    } else {
      err << fmt::format("replay: partition {} offset {} was not delivered to {}: {}\n", f.partition, f.offset, tier,
                         f.error);
    }
  }
  note << fmt::format("replayed {} of {} parked message(s) from {} to {} ({} skipped, {} failed)\n",
                      producer->acknowledged(), counts.read, c.parked_topic, tier, skipped.size(), failures.size());
  for (const auto& [partition, range] : sent) {
    note << fmt::format("  partition {}: offsets {}..{} ({} message(s)); to skip them next time: --partition {} "
                        "--from-offset {}\n",
                        partition, range.first, range.last, range.count, partition, range.last + 1);
  }
  if (!sent.empty()) {
    note << fmt::format("They are still in {} (Kafka cannot delete single messages): replaying them again sends "
                        "them again. `parked purge --before <time>` deletes old ones.\n",
                        c.parked_topic);
  }
  return failures.empty() ? kExitOk : kExitKafka;
}

int purge(const Request& r, const Context& c, std::ostream& out) {
  const auto plans = purge_plans(c.connection, c.parked_topic, *r.before_ms, r.filter.partition);
  std::int64_t total = 0;
  for (const auto& p : plans) total += p.count();
  const auto before = format_time_ms(*r.before_ms);
  if (r.dry_run) {
    for (const auto& p : plans) {
      out << fmt::format("partition {}: would delete {} (offsets {}..{}), keep {}\n", p.partition, p.count(), p.low,
                         p.target - 1, p.high - p.target);
    }
    out << fmt::format("dry run: would delete {} message(s) parked before {} from {}; deleted nothing\n", total,
                       before, c.parked_topic);
    return kExitOk;
  }
  const auto low = delete_records(c.connection, c.parked_topic, plans);
  for (const auto& p : plans) {
    const auto it = low.find(p.partition);
    out << fmt::format("partition {}: deleted {}, now starts at offset {}, {} kept\n", p.partition, p.count(),
                       it == low.end() ? p.low : it->second, p.high - p.target);
  }
  out << fmt::format("deleted {} message(s) parked before {} from {}\n", total, before, c.parked_topic);
  return kExitOk;
}

}  // namespace

int run(const Request& r, const AgentConfig& config, std::ostream& out, std::ostream& err) {
  if (!config.spec.dead_letter) {
    err << fmt::format("parked: pipeline {}/{} has no deadLetter, so it has no parked topic\n",
                       config.pipeline.namespace_name, config.pipeline.name);
    return kExitUsage;
  }
  const Context c{config, replayer::parked_topic(config.spec.dead_letter->topic),
                  Connection{config.kafka, std::chrono::milliseconds(config.kafka.request_timeout_ms)}};
  try {
    switch (r.action) {
      case Action::List: return list(r, c, out, err);
      case Action::Replay: return replay(r, c, out, err);
      case Action::Purge: return purge(r, c, out);
      case Action::None: break;
    }
    err << "parked: name an action: list, replay or purge\n";
    return kExitUsage;
  } catch (const ArgumentError& e) {
    err << "parked: " << e.what() << '\n';
    return kExitUsage;
  } catch (const kafka::ConfigError& e) {
    // Settings librdkafka refuses: the config's fault, named without values.
    err << "parked: invalid Kafka settings: " << e.what() << '\n';
    return kExitUsage;
  } catch (const KafkaError& e) {
    // Which cluster was asked: the likeliest fix for a connection failure
    // is in spec.kafka, and addresses are no secret.
    std::string servers;
    for (const auto& s : config.kafka.bootstrap_servers) servers += (servers.empty() ? "" : ",") + s;
    err << "parked: " << e.what() << " (bootstrap servers " << servers << ")\n";
    return kExitKafka;
  }
}

AgentConfig load_command_config(const std::string& path) {
  std::string text;
  try {
    text = read_file_from_disk(path);
  } catch (const FileReadError& e) {
    throw ConfigError(fmt::format("--config: cannot read {}: {}", path, e.what()));
  }
  // POD_NAME names the pod the agent writes its status for; the command
  // writes none. Outside the pod it reads a stand-in rather than the host name.
  const Environment env = [](const std::string& name) -> std::optional<std::string> {
    auto value = process_environment(name);
    if (!value && name == "POD_NAME") return std::string(kCommandPodName);
    return value;
  };
  return load_agent_config(text, read_file_from_disk, env, system_host_name);
}

int run_parked(const ParkedOptions& options, const std::string& config_path, std::ostream& out, std::ostream& err) {
  auto checked = check(options);
  if (const auto* problem = std::get_if<std::string>(&checked)) {
    err << "parked: " << *problem << '\n';
    return kExitUsage;
  }
  std::optional<AgentConfig> config;
  const std::string path = config_path.empty() ? kDefaultConfigPath : config_path;
  try {
    config = load_command_config(path);
  } catch (const ConfigError& e) {
    err << "parked: invalid configuration: " << e.what() << '\n';
    return kExitUsage;
  }
  return run(std::get<Request>(checked), *config, out, err);
}

}  // namespace outflow::agent::parked
