#include "report.h"

#include "bench/operator/metrics_page.h"
#include "bench/peers/summary.h"

#include <fmt/format.h>

#include <algorithm>

namespace outflow::bench {

namespace {

double mib(long kib) { return static_cast<double>(kib) / 1024.0; }
double mb(long kib) { return static_cast<double>(kib) * 1024.0 / 1e6; }

long peak_kib(const OperatorRun& run) { return std::max(run.peak_start_kib, run.peak_restart_kib); }

std::string calls_text(const std::map<std::string, double>& calls) {
  if (calls.empty()) return "none";
  std::string out;
  for (const auto& [call, count] : calls) out += fmt::format("{}{} {:.0f}", out.empty() ? "" : ", ", call, count);
  return out;
}

TargetVerdict no_writes(const OperatorRun& run) {
  TargetVerdict v{"a full resync with nothing changed writes nothing to the API server", {}, false, {}};
  v.measured = fmt::format("{:.0f} writes in 10 s of steady state ({:.0f} resync reconciles); {:.0f} in a restart's "
                           "full resync of {} pipelines",
                           run.steady_writes, run.steady_reconciles, run.restart_writes, run.pipelines);
  v.met = run.steady_writes == 0 && run.restart_writes == 0;
  v.bound = "the run does not show which: the operator's /metrics count its writes by verb and resource";
  return v;
}

TargetVerdict no_broker_changes(const OperatorRun& run) {
  TargetVerdict v{"... and changes nothing on the broker", {}, false, {}};
  v.measured = fmt::format("Kafka admin calls in the restart's full resync: {}", calls_text(run.restart_admin_calls));
  v.met = broker_changes(run.restart_admin_calls) == 0;
  v.bound = "the run does not show which topics: the operator's log names every topic it changes";
  return v;
}

TargetVerdict tenth_of_quoted(const OperatorRun& run) {
  TargetVerdict v{"peak RSS at most a tenth of the topic operator's quoted figure at as many topics", {}, false, {}};
  const auto quoted = quoted_for(topics(run));
  if (!quoted) return v;  // not measured at this size
  const double peak_mb = mb(peak_kib(run));
  const double tenth = quoted->mb / 10;
  v.measured = fmt::format("{:.1f} MiB ({:.1f} MB) at {} topics: {:.1f}× below the {:.0f} MB quoted at {}", mib(peak_kib(run)),
                           peak_mb, topics(run), quoted->mb / peak_mb, quoted->mb, quoted->topics);
  v.met = peak_mb <= tenth;
  const double grown_mib = mib(peak_kib(run)) - mib(run.steady.file_kib) - mib(run.before_pipelines.anon_kib);
  const double own_per_topic_kb =
      static_cast<double>(run.steady.anon_kib - run.before_pipelines.anon_kib) * 1024.0 / 1000.0 / topics(run);
  v.bound = fmt::format(
      "what the process is made of: of the {:.1f} MiB peak, {:.1f} MiB are mapped files (the shared libraries' code, "
      "which every process using them on a node shares), {:.1f} MiB its own memory before any pipeline ({} threads), "
      "and {:.1f} MiB came with the pipelines: {:.1f} kB of its own memory per topic once all were ready, against "
      "about {:.0f} kB per topic between the quoted figures",
      mib(peak_kib(run)), mib(run.steady.file_kib), mib(run.before_pipelines.anon_kib), run.before_pipelines.threads,
      grown_mib, own_per_topic_kb, quoted_growth_kb_per_topic());
  if (mb(run.before_pipelines.rss_kib) > tenth) {
    v.bound += fmt::format("; a tenth of {:.0f} MB is {:.1f} MB, less than the process holds with no pipeline at all "
                           "({:.1f} MB)",
                           quoted->mb, tenth, mb(run.before_pipelines.rss_kib));
  }
  return v;
}

std::string memory_cell(const OperatorMemory& m) {
  return fmt::format("{:.1f} MiB: own {:.1f}, mapped files {:.1f}; {} threads", mib(m.rss_kib), mib(m.anon_kib),
                     mib(m.file_kib), m.threads);
}

}  // namespace

int topics(const OperatorRun& run) { return run.pipelines * run.topics_per_pipeline; }

const std::vector<QuotedMemory>& topic_operator_quoted() {
  static const std::vector<QuotedMemory> kQuoted = {{4000, 195}, {5600, 314}};
  return kQuoted;
}

double quoted_growth_kb_per_topic() {
  const auto& q = topic_operator_quoted();
  return (q.back().mb - q.front().mb) * 1000.0 / (q.back().topics - q.front().topics);
}

std::optional<QuotedMemory> quoted_for(int topics) {
  std::optional<QuotedMemory> found;
  for (const auto& q : topic_operator_quoted()) {
    if (q.topics <= topics) found = q;
  }
  return found;
}

std::vector<TargetVerdict> judge_operator(const OperatorRun& run) {
  return {no_writes(run), no_broker_changes(run), tenth_of_quoted(run)};
}

std::string render_operator_results(const OperatorRun& run) {
  std::string out = "# The operator at scale\n\n";
  out += fmt::format(
      "Written by `tests/bench/operator` (run with `hack/bench.sh operator`) on {}. {} EventPipelines of {} topics "
      "each ({} topics), each with a Secret of its own, in {} namespaces, applied at once to a running operator ({} "
      "workers) against the test environment's API server and broker; then a restart with nothing changed (the new "
      "process's full resync), and another restart with one spec change made at once (a partition more for the last "
      "pipeline in key order, the worst place in a queue). The topic operator's figures are the ones quoted for the "
      "best-known Kafka topic operator, a JVM: about 195 MB at 4,000 topics and 314 MB at 5,600; they are not measured "
      "here.\n\n",
      run.started_utc, run.pipelines, run.topics_per_pipeline, topics(run), run.namespaces, run.workers);
  out += fmt::format("- Command: `{}`\n- Machine: {}; load average (1/5/15 min) {} at the start, {} when every "
                     "pipeline was ready, {} at the end. The test environment (API server, etcd, broker) shares the "
                     "machine.\n- Versions:\n{}\n\n",
                     run.command, run.machine, run.load_before, run.load_ready, run.load_after, run.versions);

  MarkdownTable targets({"target", "this run", "met", "what bounds it"});
  for (const auto& v : judge_operator(run)) {
    if (v.measured.empty()) {
      targets.add({v.target, fmt::format("not judged at {} topics: the quoted figures begin at {} (`--pipelines {}`)",
                                         topics(run), topic_operator_quoted().front().topics,
                                         (topic_operator_quoted().front().topics + run.topics_per_pipeline - 1) /
                                             run.topics_per_pipeline),
                   "-", "-"});
      continue;
    }
    targets.add({v.target, v.measured, v.met ? "yes" : "**no**", v.met ? "" : v.bound});
  }
  out += "## The operator's targets\n\n" + targets.render() + "\n";

  MarkdownTable figures({"figure", "value"});
  figures.add({"applying every Secret and pipeline took", fmt::format("{:.1f} s", run.applied_s)});
  figures.add({"every topic exists on the broker (checked every 5 s)", fmt::format("{:.1f} s", run.topics_s)});
  figures.add({"every pipeline reports TopicsReady at its generation", fmt::format("{:.1f} s", run.ready_s)});
  figures.add({"the operator idle (queue empty, no write for 5 s)", fmt::format("{:.1f} s", run.idle_s)});
  figures.add({"the operator's CPU from its start until idle", fmt::format("{:.1f} s", run.startup_cpu_s)});
  figures.add({"resident memory before any pipeline", memory_cell(run.before_pipelines)});
  figures.add({"peak RSS (VmHWM), start-up", fmt::format("{:.1f} MiB", mib(run.peak_start_kib))});
  figures.add({"resident memory once every pipeline was ready", memory_cell(run.steady)});
  figures.add({"restart: /readyz answers 200", fmt::format("{:.2f} s", run.restart_readyz_s)});
  figures.add({"restart: every pipeline reconciled once", fmt::format("{:.1f} s", run.restart_full_pass_s)});
  figures.add({"restart: the operator's CPU for that", fmt::format("{:.1f} s", run.restart_cpu_s)});
  figures.add({"spec change made at a restart: reconciled after",
               fmt::format("{:.2f} s (work queue depth then {:.0f})", run.change_s, run.depth_at_change)});
  figures.add({"peak RSS (VmHWM), restart", fmt::format("{:.1f} MiB", mib(run.peak_restart_kib))});
  out += "## The operator's figures\n\n" + figures.render() + "\n";
  return out;
}

}  // namespace outflow::bench
