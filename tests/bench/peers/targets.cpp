#include "targets.h"

#include "summary.h"

#include <fmt/format.h>

#include <algorithm>

namespace outflow::bench {

namespace {

// Above this share of all cores busy, a run is bound by the machine: what is
// left is scheduling noise, and no relay can take more than what is idle.
constexpr double kMachineBound = 0.9;

std::string percent(double share) { return fmt::format("{:.0f} %", share * 100.0); }

// What the marks cost, when the run measured the same agent deleting rows
// instead: a non-HOT UPDATE writes every row anew (its payload and its index
// entries), a DELETE only stamps it.
std::string marks_bound(const DrainShare& agent, const DrainShare& deleting) {
  return fmt::format(
      "PostgreSQL marking rows published: of the {:.1f} s all cores had in the agent's median round, PostgreSQL "
      "took {:.1f} s, {:.1f} s of them for the marks (an UPDATE writes each row anew, payload and index entries "
      "included); the same agent deleting each row once Kafka has it (`deleteAfterPublish: true`) drained {:.0f} "
      "rows/s with PostgreSQL at {:.1f} s",
      agent.cores_s, agent.postgres_cpu_s, agent.marks_cpu_s, deleting.rate, deleting.postgres_cpu_s);
}

std::string drain_bound(const DrainShare& agent, const std::optional<DrainShare>& deleting) {
  std::string busy = agent.machine_busy >= kMachineBound
                         ? fmt::format("the machine: all cores were {} busy while the agent's drain streamed, shared "
                                       "by PostgreSQL, the broker, the relay and the checker",
                                       percent(agent.machine_busy))
                         : fmt::format("not the machine's CPU alone: all cores {} busy while the agent's drain streamed",
                                       percent(agent.machine_busy));
  if (deleting && deleting->rate > agent.rate) return busy + "; " + marks_bound(agent, *deleting);
  return agent.machine_busy >= kMachineBound ? busy + ", so no relay gets more than what is idle"
                                             : busy + ": this run does not show it";
}

TargetVerdict ratio_target(const std::string& target, const std::optional<DrainShare>& agent,
                           const std::optional<DrainShare>& peer, double wanted,
                           const std::optional<DrainShare>& deleting) {
  TargetVerdict v{target, "", false, ""};
  if (!agent || !peer || peer->rate <= 0) return v;
  const double ratio = agent->rate / peer->rate;
  v.measured = fmt::format("{:.1f}× ({:.0f} against {:.0f} rows/s)", ratio, agent->rate, peer->rate);
  v.met = ratio >= wanted;
  if (!v.met) v.bound = drain_bound(*agent, deleting);
  return v;
}

TargetVerdict latency_target(const std::string& target, const std::optional<RateFigures>& agent, double limit_ms,
                             const std::string& rate) {
  TargetVerdict v{target, "", false, ""};
  if (!agent) return v;
  v.measured = fmt::format("{:.1f} ms", agent->p99_ms);
  v.met = agent->p99_ms <= limit_ms;
  if (v.met) return v;
  v.bound = agent->machine_busy >= kMachineBound
                ? fmt::format("the machine: all cores were {} busy while {} single-row transactions a second were "
                              "committed and relayed (the writer's commits and the checker included), so every "
                              "stage waits its turn for a core",
                              percent(agent->machine_busy), rate)
                : agent->waiting_share < 0
                ? fmt::format("not the machine's CPU alone (all cores {} busy): this run does not show it",
                              percent(agent->machine_busy))
                : fmt::format("not the machine's CPU on average (all cores {} busy) but its turns: some task waited "
                              "for a core during {} of the run, and the agent's threads, PostgreSQL's processes and "
                              "the broker's threads waited {:.2f} ms per row between them",
                              percent(agent->machine_busy), percent(agent->waiting_share),
                              agent->path_wait_ms_per_row);
  return v;
}

}  // namespace

std::vector<TargetVerdict> judge_targets(const TargetFigures& f) {
  std::vector<TargetVerdict> verdicts;

  TargetVerdict drain{"one agent drains ≥ 50,000 rows/s", "", false, ""};
  if (f.agent) {
    drain.measured = fmt::format("{:.0f} rows/s", f.agent->rate);
    drain.met = f.agent->rate >= 50000;
    if (!drain.met) drain.bound = drain_bound(*f.agent, f.agent_deleting);
  }
  verdicts.push_back(drain);
  verdicts.push_back(ratio_target("one agent drains ≥ 5× the poller", f.agent, f.poller, 5, f.agent_deleting));
  verdicts.push_back(ratio_target("one agent drains ≥ 8× Debezium", f.agent, f.debezium, 8, f.agent_deleting));

  TargetVerdict replicas{"3 replicas drain ≥ 1.8× one", "", false, ""};
  if (f.agent && f.three_replicas && f.agent->rate > 0) {
    const double ratio = f.three_replicas->rate / f.agent->rate;
    replicas.measured = fmt::format("{:.1f}×", ratio);
    replicas.met = ratio >= 1.8;
    if (!replicas.met) {
      replicas.bound = f.three_replicas->machine_busy >= kMachineBound
                           ? fmt::format("the machine: all cores were {} busy while one agent's drain streamed and {} "
                                         "during three's; the replicas share the same cores and the same PostgreSQL",
                                         percent(f.agent->machine_busy), percent(f.three_replicas->machine_busy))
                           : fmt::format("not the machine's CPU (all cores {} busy while three replicas' drain streamed): "
                                         "this run does not show it",
                                         percent(f.three_replicas->machine_busy));
    }
  }
  verdicts.push_back(replicas);

  verdicts.push_back(latency_target("p99 ≤ 20 ms at 2,000 rows/s", f.agent_at_2000, 20, "2,000"));
  verdicts.push_back(latency_target("p99 ≤ 30 ms at 10,000 rows/s", f.agent_at_10000, 30, "10,000"));

  TargetVerdict servers{"at 2,000 rows/s, PostgreSQL + broker CPU ≤ the poller's", "", false, ""};
  if (f.agent_at_2000 && f.poller_at_2000) {
    const auto& a = *f.agent_at_2000;
    const auto& p = *f.poller_at_2000;
    const double agent_cpu = a.postgres_cpu_s + a.broker_cpu_s;
    const double poller_cpu = p.postgres_cpu_s + p.broker_cpu_s;
    servers.measured = fmt::format("{:.1f} s against {:.1f} s ({} of the poller's)", agent_cpu, poller_cpu,
                                   times(agent_cpu, poller_cpu));
    servers.met = agent_cpu <= poller_cpu;
    if (!servers.met) {
      servers.bound = fmt::format(
          "the broker's work per batch: it appended {} record batches per 1,000 rows for the agent and {} for the "
          "poller, and took {:.1f} s of CPU against {:.1f} s. The agent claims every few milliseconds to keep p99 at "
          "{:.1f} ms (the poller's is {:.0f} ms), and librdkafka sends each partition's batch in a produce request "
          "of its own",
          a.batches_per_1000 < 0 ? "?" : fmt::format("{:.0f}", a.batches_per_1000),
          p.batches_per_1000 < 0 ? "?" : fmt::format("{:.0f}", p.batches_per_1000), a.broker_cpu_s, p.broker_cpu_s,
          a.p99_ms, p.p99_ms);
    }
  }
  verdicts.push_back(servers);

  TargetVerdict rss{"agent RSS ≤ 32 MiB, in every run", "", false, ""};
  if (f.agent_drain_rss_mib) {
    double largest = *f.agent_drain_rss_mib;
    rss.measured = fmt::format("{:.0f} MiB draining", *f.agent_drain_rss_mib);
    for (const auto& [rate, mib] : f.agent_latency_rss_mib) {
      rss.measured += fmt::format("; {:.0f} MiB at {} rows/s", mib, rate);
      largest = std::max(largest, mib);
    }
    rss.met = largest <= 32;
    if (!rss.met) rss.bound = "this run does not show it";
  }
  verdicts.push_back(rss);
  return verdicts;
}

std::string render_targets(const std::vector<TargetVerdict>& verdicts) {
  MarkdownTable table({"target", "this run", "met", "what bounds it"});
  for (const auto& v : verdicts) {
    if (v.measured.empty()) {
      table.add({v.target, "not measured", "-", "-"});
      continue;
    }
    table.add({v.target, v.measured, v.met ? "yes" : "**no**", v.met ? "" : v.bound});
  }
  return "## Targets\n\nWhat the agent is held to on a 2-core machine like this one, judged on this run's figures; "
         "a missed target says what this run's own measures show bounds it.\n\n" +
         table.render() + "\n";
}

}  // namespace outflow::bench
