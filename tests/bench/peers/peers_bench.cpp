// Outflow beside the relays users weigh it against (issue 16), in one run on
// one machine: the outflow-agent, a hand-written Node.js poller and Debezium
// with the Outbox Event Router, each as its own process against the same
// PostgreSQL and broker, in interleaved rounds. For each relay: the drain of
// a preloaded backlog, the commit -> broker latency at fixed rates, what the
// relay, PostgreSQL and the broker cost meanwhile, and loss and duplicates of
// every run from one checker. Writes its part of RESULTS.md; `hack/bench.sh peers` runs it.
//
// Not a test: it fails only when a row went missing or something broke.

#include "agent/outbox_fixture.h"
#include "bench/results_file.h"
#include "machine.h"
#include "results.h"
#include "summary.h"
#include "testenv.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace outflow::bench {
namespace {

struct Options {
  std::int64_t rows = 200000;
  int rounds = 3;
  int seconds = 20;
  std::vector<int> rates = {500, 2000, 10000};
  std::string relays = "agent,agent-delete,agent3,poller,debezium";
  std::string results;  // where RESULTS.md goes; empty: printed only
  std::string command;  // as RESULTS.md shows it
  RunSettings settings;
};

constexpr const char* kUsage =
    "outflow_peers_bench [--rows N] [--rounds N] [--rates N,N,...] [--seconds N] [--relays agent,agent-delete,agent3,poller,debezium]\n"
    "  [--payload-bytes N] [--keys N] [--partitions N] [--results PATH]\n"
    "Needs the test environment's variables, PostgreSQL with wal_level=logical for Debezium,\n"
    "OUTFLOW_AGENT_BIN and OUTFLOW_BENCH_PEERS_CACHE (hack/bench.sh peers sets everything up).\n";

int positive(const std::string& name, std::string_view text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value <= 0) {
    throw std::invalid_argument(fmt::format("{} must be a positive integer, not \"{}\"", name, text));
  }
  return value;
}

Options parse_options(int argc, char** argv) {
  Options o;
  // hack/bench.sh names the command a person typed; run directly, the bench's own.
  const char* typed = std::getenv("OUTFLOW_BENCH_COMMAND");
  o.command = typed != nullptr && *typed != '\0' ? typed : "outflow_peers_bench";
  if (typed == nullptr || *typed == '\0') {
    for (int i = 1; i < argc; ++i) o.command += std::string(" ") + argv[i];
  }
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value\n" + kUsage);
    const std::string value = argv[++i];
    if (flag == "--rows") o.rows = positive(flag, value);
    else if (flag == "--rounds") o.rounds = positive(flag, value);
    else if (flag == "--seconds") o.seconds = positive(flag, value);
    else if (flag == "--payload-bytes") o.settings.shape.payload_bytes = positive(flag, value);
    else if (flag == "--keys") o.settings.shape.keys = positive(flag, value);
    else if (flag == "--partitions") o.settings.partitions = positive(flag, value);
    else if (flag == "--relays") o.relays = value;
    else if (flag == "--results") o.results = value;
    else if (flag == "--rates") {
      o.rates.clear();
      std::istringstream list(value);
      for (std::string rate; std::getline(list, rate, ',');) o.rates.push_back(positive(flag, rate));
    } else {
      throw std::invalid_argument("unknown flag " + flag + "\n" + kUsage);
    }
  }
  return o;
}

std::string versions(pg::Connection& sql) {
  std::string text;
  if (const char* v = std::getenv("OUTFLOW_BENCH_VERSIONS")) text = v;  // from hack/bench.sh
  if (!text.empty() && text.back() != '\n') text += '\n';  // $(...) drops the last newline
  text += "  - " + std::string(sql.exec("SELECT version()").value(0, 0)) + "\n";
  return text;
}

// Debezium reads the WAL through logical decoding: without it the
// connector fails at start-up with a message less clear than this.
void require_logical_wal(pg::Connection& sql, const std::vector<Relay>& relays) {
  const bool debezium = std::any_of(relays.begin(), relays.end(), [](const auto& r) { return r.name == "debezium"; });
  const std::string level(sql.exec("SHOW wal_level").value(0, 0));
  if (debezium && level != "logical") {
    throw std::runtime_error("PostgreSQL runs with wal_level=" + level +
                             "; Debezium needs logical (hack/bench.sh peers sets it)");
  }
}

void print_deliveries(const Deliveries& d) {
  std::cout << fmt::format("lost {}, duplicates {}{}\n", d.lost, d.duplicates,
                           d.unidentified ? fmt::format(", {} WITHOUT EVENT ID", d.unidentified) : "")
            << std::flush;
}

// A broker just started compiles its request path (the JVM's JIT) while the
// rows go through it: measured, 7.5 s of CPU in the first 200,000-row drain
// and still seconds in each of the next few, which the relay measured first
// in a round, always the agent, would pay for everyone. Unmeasured drains go
// first until the compiler takes under a tenth of the broker's CPU, as a
// broker that has been serving for a while is what relays meet. Returns
// what RESULTS.md says of it.
std::string warm_up_broker(const Relay& relay, const Options& o) {
  constexpr int kMaxWarmUps = 10;
  std::vector<double> compiler_s;
  for (int i = 1; i <= kMaxWarmUps; ++i) {
    std::cout << fmt::format("warm-up {}: {} drains {} rows, not counted... ", i, relay.name, o.rows) << std::flush;
    const auto warm = drain(relay, o.rows, o.settings);
    compiler_s.push_back(warm.costs.broker_compiler_cpu_s);
    std::cout << fmt::format("{:.0f} ev/s, broker CPU {:.1f} s, its JIT compiler {:.1f} s\n",
                             static_cast<double>(o.rows) / warm.seconds, warm.costs.broker_cpu_s,
                             warm.costs.broker_compiler_cpu_s);
    if (warm.costs.broker_compiler_cpu_s < 0.1 * warm.costs.broker_cpu_s) break;
  }
  return fmt::format(
      "before the first round, {} drained {} rows unmeasured {} time(s), until the broker's JIT compiler took "
      "under a tenth of the broker's CPU in a drain (it took {:.1f} s of CPU in the first, {:.1f} s in the last{})",
      relay.label, o.rows, compiler_s.size(), compiler_s.front(), compiler_s.back(),
      compiler_s.size() == kMaxWarmUps ? "; the limit of drains was reached" : "");
}

int run(const Options& o) {
  spdlog::set_level(spdlog::level::warn);
  const auto relays = relays_named(o.relays);
  testenv::OutboxDb probe;
  require_logical_wal(probe.sql(), relays);

  RunDescription description;
  description.command = o.command;
  description.started_utc = utc_now();
  description.machine = machine_description();
  description.versions = versions(probe.sql());
  description.load_before = load_average();
  description.rows = o.rows;
  description.rounds = o.rounds;
  description.seconds = o.seconds;
  description.rates = o.rates;
  description.settings = o.settings;

  std::vector<RelayResults> results;
  for (const auto& relay : relays) results.push_back({relay, {}, {}});

  description.warm_up = warm_up_broker(relays.front(), o);

  // Interleaved: a burst of someone else's work on this shared machine
  // hits every relay alike.
  for (int round = 1; round <= o.rounds; ++round) {
    for (auto& r : results) {
      std::cout << fmt::format("drain round {}/{}: {} ({} rows)... ", round, o.rounds, r.relay.name, o.rows)
                << std::flush;
      r.drains.push_back(drain(r.relay, o.rows, o.settings));
      const auto& d = r.drains.back();
      std::cout << fmt::format("{:.1f} s, {:.0f} ev/s, relay CPU {:.1f} s, RSS {} MiB, load {}; ", d.seconds,
                               static_cast<double>(o.rows) / d.seconds, d.costs.relay_cpu_s,
                               d.costs.relay_peak_rss_kib / 1024, d.costs.load);
      print_deliveries(d.deliveries);
    }
  }
  for (const int rate : o.rates) {
    for (auto& r : results) {
      std::cout << fmt::format("latency at {} rows/s for {} s: {}... ", rate, o.seconds, r.relay.name) << std::flush;
      const auto& l = r.latency[rate] = latency(r.relay, rate, o.seconds, o.settings);
      std::cout << fmt::format("achieved {:.0f}/s, p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms, load {}; ",
                               l.achieved_rate, percentile(l.ms, 50), percentile(l.ms, 99), percentile(l.ms, 100),
                               l.costs.load);
      print_deliveries(l.deliveries);
    }
  }
  description.load_after = load_average();

  const auto markdown = render_results(description, results);
  std::cout << "\n" << markdown;
  if (!o.results.empty()) {
    write_part(o.results, "peers", markdown);
    std::cout << "written to " << o.results << "\n";
  }
  if (any_loss(results)) {
    std::cerr << "FAILED: rows missing from Kafka or messages without the event id header (see the tables)\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace outflow::bench

int main(int argc, char** argv) {
  try {
    if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
      std::cout << outflow::bench::kUsage;
      return 0;
    }
    return outflow::bench::run(outflow::bench::parse_options(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "outflow_peers_bench: " << e.what() << "\n";
    return 2;
  }
}
