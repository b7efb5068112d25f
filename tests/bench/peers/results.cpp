#include "results.h"

#include "summary.h"
#include "targets.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace outflow::bench {

namespace {

std::string mib(long kib) { return fmt::format("{:.0f}", static_cast<double>(kib) / 1024.0); }
std::string one_decimal(double v) { return fmt::format("{:.1f}", v); }
std::string whole(double v) { return fmt::format("{:.0f}", v); }
// "812 / 690": PostgreSQL's and the broker's peak PSS, MiB.
std::string server_memory(const Costs& c) {
  return mib(c.postgres_peak_pss_kib) + " / " + mib(c.broker_peak_pss_kib);
}

// "0 lost, 0 dup." for the cells of a run; unidentified messages only when there are any.
std::string checked(const Deliveries& d) {
  auto text = fmt::format("{} / {}", d.lost, d.duplicates);
  if (d.unidentified > 0) text += fmt::format(" ({} without event id)", d.unidentified);
  return text;
}

std::string load_1min(const std::string& load) { return load.substr(0, load.find(' ')); }
std::string percent(double share) { return fmt::format("{:.0f} %", share * 100.0); }
double per_1000_rows(long batches, double rows) { return batches < 0 || rows <= 0 ? -1 : 1000.0 * static_cast<double>(batches) / rows; }
std::string batches_cell(double per_1000) { return per_1000 < 0 ? "-" : fmt::format("{:.0f}", per_1000); }

template <typename Run, typename Field>
std::vector<double> each(const std::vector<Run>& runs, Field field) {
  std::vector<double> values;
  for (const auto& r : runs) values.push_back(field(r));
  return values;
}

const RelayResults* relay_named(const std::vector<RelayResults>& results, const std::string& name) {
  const auto it = std::find_if(results.begin(), results.end(), [&](const auto& r) { return r.relay.name == name; });
  return it == results.end() ? nullptr : &*it;
}

const RelayResults* agent_of(const std::vector<RelayResults>& results) { return relay_named(results, "agent"); }

// The peers the agent is measured against; more agent replicas are not one.
bool is_peer(const RelayResults& r) { return r.relay.launcher != "agent"; }

struct DrainFigures {
  double rate = 0, relay_cpu = 0, pg_cpu = 0, broker_cpu = 0, machine_busy = 0, batches_per_1000 = -1;
  double machine_busy_streaming = -1;  // -1: no round measured it
  long rss_kib = 0;
  Costs server_peak;  // the PSS fields only: the largest of any round
};

DrainFigures drain_figures(const RelayResults& r, std::int64_t rows) {
  DrainFigures f;
  f.rate = median(each(r.drains, [&](const DrainRun& d) { return static_cast<double>(rows) / d.seconds; }));
  f.relay_cpu = median(each(r.drains, [](const DrainRun& d) { return d.costs.relay_cpu_s; }));
  f.pg_cpu = median(each(r.drains, [](const DrainRun& d) { return d.costs.postgres_cpu_s; }));
  f.broker_cpu = median(each(r.drains, [](const DrainRun& d) { return d.costs.broker_cpu_s; }));
  f.machine_busy = median(each(r.drains, [](const DrainRun& d) { return d.costs.machine_busy; }));
  std::vector<double> streaming;
  for (const auto& d : r.drains) {
    if (d.costs.machine_busy_streaming >= 0) streaming.push_back(d.costs.machine_busy_streaming);
  }
  if (!streaming.empty()) f.machine_busy_streaming = median(streaming);
  f.batches_per_1000 = median(
      each(r.drains, [&](const DrainRun& d) { return per_1000_rows(d.costs.record_batches, static_cast<double>(rows)); }));
  for (const auto& d : r.drains) {
    f.rss_kib = std::max(f.rss_kib, d.costs.relay_peak_rss_kib);
    f.server_peak.postgres_peak_pss_kib = std::max(f.server_peak.postgres_peak_pss_kib, d.costs.postgres_peak_pss_kib);
    f.server_peak.broker_peak_pss_kib = std::max(f.server_peak.broker_peak_pss_kib, d.costs.broker_peak_pss_kib);
  }
  return f;
}

std::string drain_section(const RunDescription& run, const std::vector<RelayResults>& results) {
  std::string text = fmt::format(
      "## Drain of a preloaded backlog\n\n"
      "{} rows committed while the relay was stopped (it had been started once on the empty outbox), then the "
      "relay started: time until every row was in Kafka, and for the pollers also marked. Median of {} interleaved "
      "round(s), range in brackets. CPU seconds are medians; the relay's cover its whole life including start-up; "
      "PostgreSQL's and the broker's the same span. Peak RSS is the largest VmHWM of any round; PostgreSQL's "
      "(postmaster and backends) and the broker's peak memory the largest PSS sampled every 250 ms of any round. "
      "Record batches are what the broker appended to the run's topic, read from its log segments: its unit of "
      "work per partition (librdkafka, which the agent uses, sends each in a produce request of its own). Machine "
      "CPU busy is the share of all cores busy over the span, everything on the machine included; \"streaming\" "
      "the same from the first row's append to the last's, without the start-up and the last acknowledgements.\n\n",
      run.rows, run.rounds);
  MarkdownTable table({"relay", "drain, ev/s", "ev/s first → last append", "start → first append, s",
                       "relay CPU, s", "relay peak RSS, MiB", "PostgreSQL CPU, s", "broker CPU, s",
                       "PostgreSQL / broker peak PSS, MiB", "record batches per 1,000 rows", "machine CPU busy",
                       "lost / duplicates (all rounds)", "load (1 min) per round"});
  for (const auto& r : results) {
    if (r.drains.empty()) continue;
    const auto f = drain_figures(r, run.rows);
    const auto rates = each(r.drains, [&](const DrainRun& d) { return static_cast<double>(run.rows) / d.seconds; });
    Deliveries total;
    std::string loads;
    for (const auto& d : r.drains) {
      total.lost += d.deliveries.lost;
      total.duplicates += d.deliveries.duplicates;
      total.unidentified += d.deliveries.unidentified;
      loads += (loads.empty() ? "" : ", ") + load_1min(d.costs.load);
    }
    table.add({r.relay.label,
               fmt::format("{:.0f} ({:.0f}–{:.0f})", f.rate, *std::min_element(rates.begin(), rates.end()),
                           *std::max_element(rates.begin(), rates.end())),
               whole(median(each(r.drains, [](const DrainRun& d) { return d.streaming_rate; }))),
               fmt::format("{:.2f}", median(each(r.drains, [](const DrainRun& d) { return d.first_append_s; }))),
               one_decimal(f.relay_cpu), mib(f.rss_kib), one_decimal(f.pg_cpu), one_decimal(f.broker_cpu),
               server_memory(f.server_peak), batches_cell(f.batches_per_1000),
               f.machine_busy_streaming < 0
                   ? percent(f.machine_busy)
                   : percent(f.machine_busy) + " (" + percent(f.machine_busy_streaming) + " streaming)",
               checked(total), loads});
  }
  text += table.render();

  if (const auto* agent = agent_of(results); agent != nullptr && !agent->drains.empty()) {
    const auto a = drain_figures(*agent, run.rows);
    MarkdownTable ratios({"outflow-agent against", "drain rate (agent ÷ peer)", "relay CPU (peer ÷ agent)",
                          "relay peak RSS (peer ÷ agent)", "PostgreSQL + broker CPU (peer ÷ agent)"});
    for (const auto& r : results) {
      if (!is_peer(r) || r.drains.empty()) continue;
      const auto p = drain_figures(r, run.rows);
      ratios.add({r.relay.name, times(a.rate, p.rate), times(p.relay_cpu, a.relay_cpu),
                  times(static_cast<double>(p.rss_kib), static_cast<double>(a.rss_kib)),
                  times(p.pg_cpu + p.broker_cpu, a.pg_cpu + a.broker_cpu)});
    }
    text += "\n" + ratios.render();
    if (const auto* three = relay_named(results, "agent3"); three != nullptr && !three->drains.empty()) {
      const auto t = drain_figures(*three, run.rows);
      text += fmt::format(
          "\nThree agent replicas on the one outbox (they split its buckets) drained {} what one did, with {} its "
          "CPU and {} its PostgreSQL + broker CPU.\n",
          times(t.rate, a.rate), times(t.relay_cpu, a.relay_cpu), times(t.pg_cpu + t.broker_cpu, a.pg_cpu + a.broker_cpu));
    }
  }
  return text + "\n";
}

// The round whose drain rate is the median of the relay's rounds.
const DrainRun& median_round(const std::vector<DrainRun>& drains) {
  std::vector<const DrainRun*> sorted;
  for (const auto& d : drains) sorted.push_back(&d);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->seconds < b->seconds; });
  return *sorted[sorted.size() / 2];
}

// "2.0 (23 %)": seconds of CPU and their share of all cores over the span.
std::string core_share(double seconds, double cores_s) {
  return cores_s <= 0 ? one_decimal(seconds) : fmt::format("{:.1f} ({:.0f} %)", seconds, 100.0 * seconds / cores_s);
}

// "`outflow-agent-marks` 2.0, `outflow-agent` 1.1, others 0.1": the busiest first.
std::string sessions_cell(const std::map<std::string, double>& sessions) {
  std::vector<std::pair<std::string, double>> busiest(sessions.begin(), sessions.end());
  std::sort(busiest.begin(), busiest.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string text;
  double rest = 0;
  for (const auto& [name, seconds] : busiest) {
    if (seconds < 0.05) {
      rest += seconds;
      continue;
    }
    text += (text.empty() ? "" : ", ") + fmt::format("`{}` {:.1f}", name, seconds);
  }
  if (rest >= 0.05) text += fmt::format(", others {:.1f}", rest);
  return text.empty() ? "-" : text;
}

constexpr const char* kProfileIntro =
    "by process, read from /proc over the same span as the figures above: all cores' seconds, how many were idle, "
    "and who spent the rest. PostgreSQL's share is split by session, named by application_name (the agent's claims "
    "are `outflow-agent`, its marks `outflow-agent-marks`; the poller's sessions and the bench's own are unnamed) "
    "and, for the server's own processes, by type. The broker's share names what its JIT compiler took of it. "
    "\"This bench\" is the checker reading every row back from Kafka and the samplers, and in a latency run also "
    "the writer's client side. PostgreSQL counts the processes alive at the span's end, so the sessions of a "
    "latency run's writer, closed by then, fall under \"everything else\". \"Waiting for a core\" is the seconds the "
    "relay's threads, PostgreSQL's processes and the broker's threads were ready to run but not running (the "
    "scheduler's run delay), and the share of the span in which any task on the machine was (pressure stall "
    "information)";

std::string waiting_cell(const Costs& c) {
  auto cell = fmt::format("relay {:.1f}, PostgreSQL {:.1f}, broker {:.1f}", c.relay_wait_s, c.postgres_wait_s,
                          c.broker_wait_s);
  if (c.cpu_pressure_s >= 0 && c.span_s > 0) cell += "; any task " + percent(c.cpu_pressure_s / c.span_s);
  return cell;
}

MarkdownTable profile_table() {
  return MarkdownTable({"relay", "rows/s", "all cores, s", "idle", "relay", "PostgreSQL", "PostgreSQL by session",
                        "broker", "this bench", "everything else", "waiting for a core, s"});
}

void add_profile_row(MarkdownTable& table, const std::string& relay, double rate, const Costs& c) {
  const double total = c.cores.total;
  const double rest = total - c.cores.idle - c.relay_cpu_s - c.postgres_cpu_s - c.broker_cpu_s - c.bench_cpu_s;
  table.add({relay, whole(rate), one_decimal(total), core_share(c.cores.idle, total), core_share(c.relay_cpu_s, total),
             core_share(c.postgres_cpu_s, total), sessions_cell(c.postgres_sessions_cpu_s),
             fmt::format("{}; JIT compiler {:.1f}", core_share(c.broker_cpu_s, total), c.broker_compiler_cpu_s),
             core_share(c.bench_cpu_s, total), core_share(std::max(rest, 0.0), total), waiting_cell(c)});
}

std::string profile_section(const RunDescription& run, const std::vector<RelayResults>& results) {
  auto table = profile_table();
  for (const auto& r : results) {
    if (r.drains.empty()) continue;
    const auto& d = median_round(r.drains);
    add_profile_row(table, r.relay.label, static_cast<double>(run.rows) / d.seconds, d.costs);
  }
  return fmt::format("## Where the CPU went while each relay drained\n\nA profile of each relay's median drain round "
                     "{}.\n\n",
                     kProfileIntro) +
         table.render() + "\n";
}

std::string latency_section(const RunDescription& run, const std::vector<RelayResults>& results, int rate) {
  std::string text = fmt::format(
      "## Latency at {} rows/s\n\n"
      "Single-row transactions committed at {} rows/s for {} s; latency runs from the moment the INSERT's commit "
      "returned to the broker's LogAppendTime of that row's message, for every row however late (a row counts as "
      "lost only when it had not arrived after the relay made no progress for a minute). CPU seconds and peak PSS over the "
      "writing span and until the last row arrived; record batches and machine CPU busy as in the drain.\n\n",
      rate, rate, run.seconds);
  MarkdownTable table({"relay", "achieved rows/s", "p50, ms", "p99, ms", "max, ms", "relay CPU, s",
                       "relay peak RSS, MiB", "PostgreSQL CPU, s", "broker CPU, s", "PostgreSQL / broker peak PSS, MiB",
                       "record batches per 1,000 rows", "machine CPU busy", "lost / duplicates", "load (1 min)"});
  const LatencyRun* agent_run = nullptr;
  if (const auto* agent = agent_of(results); agent != nullptr && agent->latency.count(rate) > 0) {
    agent_run = &agent->latency.at(rate);
  }
  std::vector<std::vector<std::string>> ratio_rows;
  for (const auto& r : results) {
    if (r.latency.count(rate) == 0) continue;
    const auto& l = r.latency.at(rate);
    table.add({r.relay.label, whole(l.achieved_rate), one_decimal(percentile(l.ms, 50)),
               one_decimal(percentile(l.ms, 99)), one_decimal(percentile(l.ms, 100)), one_decimal(l.costs.relay_cpu_s),
               mib(l.costs.relay_peak_rss_kib), one_decimal(l.costs.postgres_cpu_s), one_decimal(l.costs.broker_cpu_s),
               server_memory(l.costs),
               batches_cell(per_1000_rows(l.costs.record_batches, static_cast<double>(l.ms.size()))),
               percent(l.costs.machine_busy), checked(l.deliveries), load_1min(l.costs.load)});
    if (agent_run != nullptr && is_peer(r)) {
      ratio_rows.push_back(
          {r.relay.name, times(percentile(l.ms, 50), percentile(agent_run->ms, 50)),
           times(percentile(l.ms, 99), percentile(agent_run->ms, 99)),
           times(l.costs.relay_cpu_s, agent_run->costs.relay_cpu_s),
           times(l.costs.postgres_cpu_s + l.costs.broker_cpu_s,
                 agent_run->costs.postgres_cpu_s + agent_run->costs.broker_cpu_s)});
    }
  }
  text += table.render();
  auto profile = profile_table();
  for (const auto& r : results) {
    if (r.latency.count(rate) == 0) continue;
    const auto& l = r.latency.at(rate);
    add_profile_row(profile, r.relay.label, l.achieved_rate, l.costs);
  }
  text += "\nWhere the CPU went over each run, read as the drain's profile above:\n\n" + profile.render();
  if (!ratio_rows.empty()) {
    MarkdownTable ratios({"outflow-agent against", "p50 (peer ÷ agent)", "p99 (peer ÷ agent)",
                          "relay CPU (peer ÷ agent)", "PostgreSQL + broker CPU (peer ÷ agent)"});
    for (auto& row : ratio_rows) ratios.add(std::move(row));
    text += "\n" + ratios.render();
  }
  return text + "\n";
}

std::optional<DrainShare> drain_share(const RelayResults* r, std::int64_t rows) {
  if (r == nullptr || r->drains.empty()) return std::nullopt;
  const auto f = drain_figures(*r, rows);
  const auto& profile = median_round(r->drains).costs;
  const auto marks = profile.postgres_sessions_cpu_s.find("outflow-agent-marks");
  return DrainShare{f.rate, f.machine_busy_streaming >= 0 ? f.machine_busy_streaming : f.machine_busy,
                    profile.cores.total, profile.postgres_cpu_s,
                    marks == profile.postgres_sessions_cpu_s.end() ? 0.0 : marks->second};
}

std::optional<RateFigures> rate_figures(const RelayResults* r, int rate) {
  if (r == nullptr || r->latency.count(rate) == 0) return std::nullopt;
  const auto& l = r->latency.at(rate);
  const double rows = static_cast<double>(l.ms.size());
  const auto& c = l.costs;
  return RateFigures{percentile(l.ms, 99),
                     c.postgres_cpu_s,
                     c.broker_cpu_s,
                     per_1000_rows(c.record_batches, rows),
                     c.machine_busy,
                     c.cpu_pressure_s >= 0 && c.span_s > 0 ? c.cpu_pressure_s / c.span_s : -1,
                     rows > 0 ? (c.relay_wait_s + c.postgres_wait_s + c.broker_wait_s) * 1000.0 / rows : 0};
}

TargetFigures target_figures(const RunDescription& run, const std::vector<RelayResults>& results) {
  TargetFigures f;
  const auto* agent = agent_of(results);
  f.agent = drain_share(agent, run.rows);
  f.three_replicas = drain_share(relay_named(results, "agent3"), run.rows);
  f.poller = drain_share(relay_named(results, "poller"), run.rows);
  f.debezium = drain_share(relay_named(results, "debezium"), run.rows);
  f.agent_deleting = drain_share(relay_named(results, "agent-delete"), run.rows);
  if (agent != nullptr && !agent->drains.empty()) {
    f.agent_drain_rss_mib = static_cast<double>(drain_figures(*agent, run.rows).rss_kib) / 1024.0;
    for (const auto& [rate, l] : agent->latency) {
      f.agent_latency_rss_mib.emplace_back(rate, static_cast<double>(l.costs.relay_peak_rss_kib) / 1024.0);
    }
  }
  f.agent_at_2000 = rate_figures(agent, 2000);
  f.poller_at_2000 = rate_figures(relay_named(results, "poller"), 2000);
  f.agent_at_10000 = rate_figures(agent, 10000);
  return f;
}

}  // namespace

std::string render_results(const RunDescription& run, const std::vector<RelayResults>& results) {
  std::string text = fmt::format(
      "# Outflow beside a hand-written poller and Debezium\n\n"
      "Written by `tests/bench/peers` (run with `hack/bench.sh peers`) on {}. The poller and Debezium are "
      "**baselines**, set up by `hack/bench-peers.sh` as their users would set them up; all three relays read "
      "the same outbox table layout (`hack/sql/outbox.sql`) on the same PostgreSQL (`wal_level=logical`) and "
      "write to the same broker, and one checker reads every topic back by the `outflow-event-id` header each "
      "relay sets from the row's `event_id`.\n\n"
      "- outflow-agent: the agent binary of this tree on its own (no Kubernetes), the pipeline's defaults; "
      "\"deleteAfterPublish\": the same deleting each row once Kafka has it instead of marking it published; "
      "\"3 replicas\": three of them on the same outbox.\n"
      "- hand-written poller (baseline): `tests/bench/peers/poller`, Node.js with kafkajs and pg, written as "
      "services write it: lock 100 unpublished rows, send, mark, commit; sleep 1 s when there were none.\n"
      "- Debezium (baseline): the PostgreSQL connector (pgoutput) with the Outbox Event Router on Kafka Connect "
      "standalone, connect-standalone.sh's JVM settings and Connect's and Debezium's defaults "
      "(`tests/bench/peers/debezium/run.sh`); it does not mark rows.\n\n"
      "- Command: `{}`\n"
      "- Machine: {}; load average (1/5/15 min) {} at the start, {} at the end. The machine is shared: "
      "compare relays within this run, not with other runs.\n"
      "- Rows: {} B payloads, {} keys, a topic of {} partitions per run; drain of {} rows, {} round(s); "
      "latency at {} rows/s for {} s each.\n"
      "{}"
      "- Versions:\n{}\n",
      run.started_utc, run.command, run.machine, run.load_before, run.load_after, run.settings.shape.payload_bytes,
      run.settings.shape.keys, run.settings.partitions, run.rows, run.rounds,
      fmt::join(run.rates, ", "), run.seconds, run.warm_up.empty() ? "" : "- Warm-up: " + run.warm_up + ".\n",
      run.versions);
  text += render_targets(judge_targets(target_figures(run, results)));
  text += drain_section(run, results);
  text += profile_section(run, results);
  for (const int rate : run.rates) text += latency_section(run, results, rate);
  return text;
}

bool any_loss(const std::vector<RelayResults>& results) {
  for (const auto& r : results) {
    for (const auto& d : r.drains) {
      if (d.deliveries.lost > 0 || d.deliveries.unidentified > 0) return true;
    }
    for (const auto& [rate, l] : r.latency) {
      if (l.deliveries.lost > 0 || l.deliveries.unidentified > 0) return true;
    }
  }
  return false;
}

}  // namespace outflow::bench
