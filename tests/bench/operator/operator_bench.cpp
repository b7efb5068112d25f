// Benchmark of the operator at scale against the real API server and broker of
// the test environment (hack/bench.sh operator runs it):
//
//  1. Start-up: N EventPipelines (spread over several namespaces, T topics
//     each, each with a Secret of its own) applied at once to a running
//     operator; time until every pipeline reports TopicsReady=True at its
//     current generation, and until all N*T topics exist on the broker.
//  2. The operator's memory: before any pipeline, its peak (the kernel's
//     VmHWM) and once all were ready, split into its own and mapped files;
//     its CPU until idle.
//  3. Restart with nothing changed: SIGTERM, a new process; time until
//     /readyz answers 200 and until it has reconciled every pipeline once
//     (its full resync), and the API writes and Kafka admin calls that took.
//  4. Another restart, and a spec change made at once, while that full
//     resync is queued: time until the pipeline reports it (observedGeneration
//     current, TopicsReady=True, the broker has the new partition count). The
//     pipeline changed is the last one in key order, the worst place in a FIFO.
//  5. The load average at each phase: the machine is shared; compare figures
//     of one run, or runs at similar load.
//
// Prints the figures and, with --results, writes its part of RESULTS.md
// (operator/report.h judges the targets). Not a test: it fails only when a
// phase does not finish within --timeout.

#include "bench/operator/metrics_page.h"
#include "bench/operator/report.h"
#include "bench/peers/machine.h"
#include "bench/results_file.h"
#include "child_process.h"
#include "common/kafka/admin.h"
#include "common/kafka/client_config.h"
#include "common/kafka/handles.h"
#include "common/kube/api_client.h"
#include "common/kube/informer.h"
#include "common/kube/resource.h"
#include "kube_helpers.h"
#include "testenv.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace outflow;
using namespace std::chrono_literals;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

namespace {

struct Settings {
  int pipelines = 1000;
  int namespaces = 10;
  int topics = 3;
  int workers = 8;  // the operator's default
  std::chrono::seconds timeout{1800};
  std::string results;  // where RESULTS.md is; empty: printed only
};

int int_arg(const std::string& text, const std::string& name) {
  try {
    return std::stoi(text);
  } catch (const std::exception&) {
    throw std::invalid_argument(fmt::format("{} wants a number, got '{}'", name, text));
  }
}

Settings parse_args(int argc, char** argv) {
  Settings s;
  if (const char* n = std::getenv("OUTFLOW_BENCH_PIPELINES")) s.pipelines = int_arg(n, "OUTFLOW_BENCH_PIPELINES");
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--pipelines") s.pipelines = int_arg(value(), arg);
    else if (arg == "--namespaces") s.namespaces = int_arg(value(), arg);
    else if (arg == "--topics") s.topics = int_arg(value(), arg);
    else if (arg == "--workers") s.workers = int_arg(value(), arg);
    else if (arg == "--timeout") s.timeout = std::chrono::seconds(int_arg(value(), arg));
    else if (arg == "--results") s.results = value();
    else if (arg == "--help") {
      std::cout << "operator_bench [--pipelines N (1000)] [--namespaces N (10)] [--topics N (3)]\n"
                   "               [--workers N (8)] [--timeout SECONDS (1800)] [--results PATH]\n"
                   "--results: write the operator's part of that RESULTS.md (its other parts stay)\n"
                   "OUTFLOW_BENCH_PIPELINES=N: default for --pipelines\n"
                   "OUTFLOW_BENCH_OPERATOR_BIN=path: measure that operator binary instead of this build's\n";
      std::exit(0);
    } else {
      throw std::invalid_argument("unknown argument " + arg + " (see --help)");
    }
  }
  if (s.pipelines < 1 || s.namespaces < 1 || s.topics < 1 || s.workers < 1) {
    throw std::invalid_argument("--pipelines, --namespaces, --topics and --workers must be at least 1");
  }
  return s;
}

double seconds_since(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

std::string env_or(const char* name, const std::string& otherwise) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : otherwise;
}

std::string base64(const std::string& in) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned value = 0;
  int bits = -6;
  for (const unsigned char c : in) {
    value = (value << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(table[(value >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(table[((value << 8) >> (bits + 8)) & 0x3F]);
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

// Runs `job(i)` for i in [0, count) on a few threads (the API server is the
// bottleneck, not this process).
void in_parallel(int count, const std::function<void(int)>& job) {
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < count; i = next++) job(i);
    });
  }
  for (auto& t : threads) t.join();
}

class Operator {
 public:
  explicit Operator(int workers)
      : metrics_port_(testenv::free_port()), health_port_(testenv::free_port()) {
    // OUTFLOW_BENCH_OPERATOR_BIN: another build of the operator (e.g. the one
    // before a change) measured in the same environment.
    const char* other = std::getenv("OUTFLOW_BENCH_OPERATOR_BIN");
    process_ = std::make_unique<testenv::ChildProcess>(std::vector<std::string>{
        other != nullptr && *other != '\0' ? other : OUTFLOW_OPERATOR_BIN, "--kubeconfig=" + testenv::require("KUBECONFIG"),
        "--metrics-addr=127.0.0.1:" + std::to_string(metrics_port_),
        "--health-addr=127.0.0.1:" + std::to_string(health_port_), "--log-level=info",
        "--workers=" + std::to_string(workers), "--agent-image=outflow-agent:bench"});
  }
  bool ready() { return testenv::http_get(health_port_, "/readyz").first == 200; }
  double metric(const std::string& name) {
    return testenv::metric_value(testenv::http_get(metrics_port_, "/metrics").second, name);
  }
  double writes() { return bench::api_writes(testenv::http_get(metrics_port_, "/metrics").second); }
  std::map<std::string, double> admin_calls() {
    return bench::sum_by_label(testenv::http_get(metrics_port_, "/metrics").second,
                               "outflow_operator_kafka_admin_calls_total", "call");
  }
  long peak_rss_kib() const { return bench::status_number(process_->pid(), "VmHWM"); }
  long rss_kib() const { return bench::status_number(process_->pid(), "VmRSS"); }
  // What of the resident memory is the process's own (heap, stacks) and what
  // is mapped files, mostly the shared libraries' code, which every process
  // using them on a node shares and the kernel can drop and read again.
  bench::OperatorMemory memory() const {
    const auto pid = process_->pid();
    return {bench::status_number(pid, "VmRSS"), bench::status_number(pid, "RssAnon"), bench::status_number(pid, "RssFile"),
            static_cast<int>(bench::status_number(pid, "Threads"))};
  }
  double cpu_seconds() const { return bench::process_cpu_seconds(process_->pid()); }
  int terminate() { return process_->terminate(60s); }
  std::string log_tail() const {
    const auto text = process_->log();
    return text.substr(text.size() > 6000 ? text.size() - 6000 : 0);
  }

 private:
  int metrics_port_;
  int health_port_;
  std::unique_ptr<testenv::ChildProcess> process_;
};

struct Pipeline {
  std::string ns;
  std::string name;
  std::vector<std::string> topics;
};

// TopicsReady=True at the current generation: what the bench waits for.
bool topics_ready_at_generation(const json& object) {
  const auto generation = object.at("metadata").value("generation", std::int64_t{0});
  const auto status = object.value("status", json::object());
  if (status.value("observedGeneration", std::int64_t{-1}) != generation) return false;
  for (const auto& c : status.value("conditions", json::array())) {
    if (c.value("type", "") == "TopicsReady") {
      return c.value("status", "") == "True" && c.value("observedGeneration", std::int64_t{-1}) == generation;
    }
  }
  return false;
}

// The bench's pipelines (names "p...") that are ready, kept from a watch.
class ReadyWatch {
 public:
  explicit ReadyWatch(kube::RestClient& rest) : informer_(rest, kube::kinds::event_pipelines()) {
    informer_.add_handler([this](kube::InformerEventType type, const json& object) {
      const auto& metadata = object.at("metadata");
      const auto key = metadata.value("namespace", "") + "/" + metadata.value("name", "");
      if (metadata.value("name", "").rfind("p", 0) != 0) return;
      std::lock_guard lock(mutex_);
      if (type != kube::InformerEventType::Deleted && topics_ready_at_generation(object)) {
        ready_.insert(key);
      } else {
        ready_.erase(key);
      }
    });
    informer_.start();
  }
  int count() {
    std::lock_guard lock(mutex_);
    return static_cast<int>(ready_.size());
  }

 private:
  std::mutex mutex_;
  std::set<std::string> ready_;
  kube::Informer informer_;  // last: stopped before the set goes
};

class Bench {
 public:
  explicit Bench(Settings settings)
      : s_(settings), rest_(testenv::admin_client()), api_(rest_),
        bootstrap_(testenv::require("OUTFLOW_TEST_KAFKA_PLAINTEXT")),
        run_(testenv::unique_name("b")) {
    testenv::apply_crd_and_wait_established(rest_);
    kafka::ConnectionSettings settings_kafka;
    settings_kafka.bootstrap_servers = {bootstrap_};
    kafka_ = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf(kafka::client_properties(settings_kafka)));
    for (int n = 0; n < s_.namespaces; ++n) {
      namespaces_.push_back(std::make_unique<testenv::ScopedNamespace>(rest_, "bench"));
    }
    for (int i = 0; i < s_.pipelines; ++i) {
      Pipeline p{namespaces_[i % s_.namespaces]->name(), fmt::format("p{:05d}", i), {}};
      for (int t = 0; t < s_.topics; ++t) p.topics.push_back(fmt::format("{}.{:05d}.t{}", run_, i, t));
      pipelines_.push_back(std::move(p));
    }
  }

  int run() {
    bench::OperatorRun r;
    r.command = env_or("OUTFLOW_BENCH_COMMAND", "outflow_operator_bench");
    r.started_utc = bench::utc_now();
    r.machine = bench::machine_description();
    r.versions = env_or("OUTFLOW_BENCH_VERSIONS", "  - (not given: run it with hack/bench.sh operator)");
    r.load_before = bench::load_average();
    r.pipelines = s_.pipelines;
    r.topics_per_pipeline = s_.topics;
    r.namespaces = s_.namespaces;
    r.workers = s_.workers;
    std::cout << fmt::format("operator bench: {} pipelines x {} topics in {} namespaces, {} workers; load {}\n",
                             s_.pipelines, s_.topics, s_.namespaces, s_.workers, r.load_before);
    auto op = std::make_unique<Operator>(s_.workers);
    if (!testenv::eventually([&] { return op->ready(); }, 60s)) return fail(*op, "the operator never became ready");
    // Its informers have listed (nothing of the bench's yet): what it holds
    // before the first pipeline.
    std::this_thread::sleep_for(2s);
    r.before_pipelines = op->memory();

    // Readiness is followed through a watch, as a dashboard would: a list of
    // every pipeline each second cost the API server under test as much as a
    // few hundred of the operator's writes.
    ReadyWatch ready_watch(rest_);

    // 1. Everything applied at once.
    const auto start = Steady::now();
    in_parallel(s_.pipelines, [&](int i) { create(pipelines_[i]); });
    r.applied_s = seconds_since(start);
    std::cout << fmt::format("applied {} Secrets and {} pipelines in {:.1f} s\n", s_.pipelines, s_.pipelines,
                             r.applied_s);
    double topics_at = -1;
    double ready_at = -1;
    double last_report = 0;
    double topics_checked = -10;
    while (seconds_since(start) < s_.timeout.count()) {
      // A metadata request for every topic of the cluster costs the broker
      // under test more than a little: every 5 s, not every second.
      if (topics_at < 0 && seconds_since(start) - topics_checked >= 5) {
        topics_checked = seconds_since(start);
        if (count_topics() == s_.pipelines * s_.topics) topics_at = topics_checked;
      }
      const int ready = ready_watch.count();
      if (seconds_since(start) - last_report >= 30) {
        last_report = seconds_since(start);
        std::cout << fmt::format("  {:.0f} s: {} of {} ready, RSS {} MiB, load {}\n", last_report, ready,
                                 s_.pipelines, op->rss_kib() / 1024, bench::load_average())
                  << std::flush;
      }
      if (ready == s_.pipelines) {
        ready_at = seconds_since(start);
        break;
      }
      std::this_thread::sleep_for(1s);
    }
    if (ready_at < 0) return fail(*op, "not every pipeline became ready in time");
    if (topics_at < 0 && count_topics() != s_.pipelines * s_.topics) {
      return fail(*op, "every pipeline reports its topics ready, but the broker does not have them all");
    }
    r.ready_s = ready_at;
    r.topics_s = topics_at < 0 ? ready_at : topics_at;
    r.load_ready = bench::load_average();
    // Reconciles still queued (events from the operator's own writes) drain;
    // idle once 5 s pass with the queue empty and no write. Not "no
    // reconcile": the periodic resync spreads one reconcile per pipeline over
    // each period (5 a second at 3,000 pipelines and 10 minutes), by design.
    r.idle_s = -1;
    for (double last = op->writes(); seconds_since(start) < s_.timeout.count();) {
      std::this_thread::sleep_for(5s);
      const double now = op->writes();
      if (now == last && op->metric("outflow_operator_workqueue_depth") == 0) {
        r.idle_s = seconds_since(start) - 5;
        break;
      }
      last = now;
    }
    r.startup_cpu_s = op->cpu_seconds();
    // Steady state: 10 s with nothing changing writes nothing; the resyncs
    // in it read the caches.
    const double reconciles_before = op->metric("outflow_operator_reconcile_total");
    const double writes_before = op->writes();
    std::this_thread::sleep_for(10s);
    r.steady_reconciles = op->metric("outflow_operator_reconcile_total") - reconciles_before;
    r.steady_writes = op->writes() - writes_before;
    r.peak_start_kib = op->peak_rss_kib();
    r.steady = op->memory();

    // 2. A restart with nothing changed: the new process reconciles every
    // pipeline once, which should read and write nothing but its caches.
    if (const int code = op->terminate(); code != 0) std::cout << "note: the operator exited with " << code << "\n";
    auto restarted = Steady::now();
    op = std::make_unique<Operator>(s_.workers);
    if (!testenv::eventually([&] { return op->ready(); }, s_.timeout, 50ms)) {
      return fail(*op, "the restarted operator never became ready");
    }
    r.restart_readyz_s = seconds_since(restarted);
    if (!testenv::eventually([&] { return op->metric("outflow_operator_reconcile_total") >= s_.pipelines; },
                             s_.timeout, 200ms)) {
      return fail(*op, "the restarted operator never reconciled every pipeline");
    }
    r.restart_full_pass_s = seconds_since(restarted);
    r.restart_cpu_s = op->cpu_seconds();
    r.restart_writes = op->writes();
    r.restart_admin_calls = op->admin_calls();

    // 3. Another restart, and one spec change made while its full resync is queued.
    op->terminate();
    restarted = Steady::now();
    op = std::make_unique<Operator>(s_.workers);
    if (!testenv::eventually([&] { return op->ready(); }, s_.timeout, 50ms)) {
      return fail(*op, "the restarted operator never became ready");
    }
    auto& changed = pipelines_.back();
    const auto change_start = Steady::now();
    const auto generation = grow_first_topic(changed);
    r.depth_at_change = op->metric("outflow_operator_workqueue_depth");
    if (!testenv::eventually([&] { return change_reconciled(changed, generation); }, s_.timeout, 50ms)) {
      return fail(*op, "the spec change was never reconciled");
    }
    r.change_s = seconds_since(change_start);
    r.peak_restart_kib = op->peak_rss_kib();
    r.load_after = bench::load_average();
    op->terminate();

    const auto markdown = bench::render_operator_results(r);
    std::cout << "\n" << markdown;
    std::cout << fmt::format(
        "RESULT pipelines={} topics={} ready_s={:.1f} topics_s={:.1f} idle_s={:.1f} peak_rss_mib={:.1f} "
        "readyz_restart_s={:.2f} resync_restart_s={:.1f} restart_writes={:.0f} change_s={:.2f} steady_writes={:.0f} "
        "steady_reconciles={:.0f} anon_mib={:.1f} file_mib={:.1f} load=\"{}\"\n",
        s_.pipelines, s_.pipelines * s_.topics, r.ready_s, r.topics_s, r.idle_s,
        std::max(r.peak_start_kib, r.peak_restart_kib) / 1024.0, r.restart_readyz_s, r.restart_full_pass_s,
        r.restart_writes, r.change_s, r.steady_writes, r.steady_reconciles, r.steady.anon_kib / 1024.0,
        r.steady.file_kib / 1024.0, r.load_ready);
    if (!s_.results.empty()) {
      bench::write_part(s_.results, "operator", markdown);
      std::cout << "written to " << s_.results << "\n";
    }
    return 0;
  }

  ~Bench() {
    // Without an operator the finalizers would keep the namespaces for ever:
    // drop them, and delete the topics directly.
    try {
      std::vector<std::string> topics;
      for (const auto& p : pipelines_) topics.insert(topics.end(), p.topics.begin(), p.topics.end());
      for (std::size_t i = 0; i < topics.size(); i += 500) {
        const std::vector<std::string> batch(topics.begin() + i,
                                             topics.begin() + std::min(topics.size(), i + 500));
        kafka::delete_topics(kafka_.get(), batch, 60s);
      }
      in_parallel(s_.pipelines, [&](int i) {
        try {
          api_.merge_patch(kube::kinds::event_pipelines(), pipelines_[i].ns, pipelines_[i].name,
                           {{"metadata", {{"finalizers", nullptr}}}});
        } catch (const std::exception&) {
          // never created
        }
      });
    } catch (const std::exception& e) {
      std::cerr << "cleanup: " << e.what() << "\n";
    }
  }

 private:
  int fail(Operator& op, const std::string& what) {
    std::cerr << "FAILED: " << what << "\n---- operator log (tail) ----\n" << op.log_tail() << "\n----\n";
    return 1;
  }

  json spec_of(const Pipeline& p, int first_partitions) const {
    json topics = json::array();
    for (std::size_t t = 0; t < p.topics.size(); ++t) {
      topics.push_back({{"name", p.topics[t]}, {"partitions", t == 0 ? first_partitions : 1}, {"replicationFactor", 1}});
    }
    return {{"kafka", {{"bootstrapServers", {bootstrap_}}, {"requestTimeoutMs", 10000}}},
            {"topics", topics},
            {"outbox", {{"databaseSecretRef", {{"name", p.name + "-db"}, {"key", "url"}}},
                        {"defaultTopic", p.topics.front()}}},
            {"agent", {{"replicas", 0}}},
            {"alerts", {{"defaults", false}}}};
  }

  void create(const Pipeline& p) {
    api_.create(kube::kinds::secrets(), p.ns,
                {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", p.name + "-db"}}},
                 {"data", {{"url", base64("postgresql://outflow@127.0.0.1/" + p.name)}}}});
    api_.create(kube::kinds::event_pipelines(), p.ns,
                {{"apiVersion", "outflow.dev/v1alpha1"},
                 {"kind", "EventPipeline"},
                 {"metadata", {{"name", p.name}, {"namespace", p.ns}}},
                 {"spec", spec_of(p, 1)}});
  }

  std::int64_t grow_first_topic(const Pipeline& p) {
    const auto updated = api_.merge_patch(kube::kinds::event_pipelines(), p.ns, p.name,
                                          {{"spec", {{"topics", spec_of(p, 2).at("topics")}}}});
    return updated.at("metadata").value("generation", std::int64_t{0});
  }

  int count_topics() {
    const rd_kafka_metadata_t* raw = nullptr;
    if (rd_kafka_metadata(kafka_.get(), 1, nullptr, &raw, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
    kafka::MetadataHandle metadata(raw);
    int count = 0;
    const std::string prefix = run_ + ".";
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      if (std::string_view(metadata->topics[i].topic).rfind(prefix, 0) == 0 && metadata->topics[i].err == 0) ++count;
    }
    return count;
  }

  bool change_reconciled(const Pipeline& p, std::int64_t generation) {
    const auto object = api_.get(kube::kinds::event_pipelines(), p.ns, p.name);
    if (object.at("metadata").value("generation", std::int64_t{0}) != generation) return false;
    if (!topics_ready_at_generation(object)) return false;
    const auto described = kafka::describe_topics(kafka_.get(), {p.topics.front()}, 10s);
    const auto found = described.find(p.topics.front());
    return found != described.end() && found->second.partitions == 2;
  }

  Settings s_;
  kube::RestClient rest_;
  kube::ApiClient api_;
  std::string bootstrap_;
  std::string run_;
  kafka::ClientHandle kafka_;
  std::vector<std::unique_ptr<testenv::ScopedNamespace>> namespaces_;
  std::vector<Pipeline> pipelines_;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    Bench bench(parse_args(argc, argv));
    return bench.run();
  } catch (const std::exception& e) {
    std::cerr << "operator bench: " << e.what() << "\n";
    return 2;
  }
}
