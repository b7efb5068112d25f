#include "runs.h"

#include "agent/publisher/buckets.h"

#include "agent/outbox_fixture.h"
#include "broker_log.h"
#include "busy_window.h"
#include "machine.h"
#include "session_cpu.h"
#include "testenv.h"
#include "topic_checker.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <unistd.h>

namespace outflow::bench {

namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

double seconds_since(Steady::time_point t0) { return std::chrono::duration<double>(Steady::now() - t0).count(); }

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Everything of one run that outlives the relay: its outbox (a schema of its
// own), its topic, the checker reading that topic, the relay's work
// directory, and Debezium's replication slot and publication, removed again
// at the end (a slot left behind would hold WAL for ever).
long batches_since(long before, long after) { return before < 0 || after < 0 ? -1 : after - before; }

// Calls `sample` every `period` on a thread of its own until destroyed: a
// drain or the paced writer blocks the caller for the whole span.
class Sampling {
 public:
  Sampling(std::chrono::milliseconds period, std::function<void()> sample)
      : thread_([this, period, sample = std::move(sample)] {
          while (!stop_) {
            sample();
            for (auto slept = 0ms; slept < period && !stop_; slept += 10ms) std::this_thread::sleep_for(10ms);
          }
        }) {}
  ~Sampling() {
    stop_ = true;
    thread_.join();
  }
  Sampling(const Sampling&) = delete;
  Sampling& operator=(const Sampling&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: starts once stop_ exists
};

// The largest memory of the database server and the broker while it lives.
class ServerMemoryPeak {
 public:
  ServerMemoryPeak(int postmaster, int broker)
      : sampling_(250ms, [this, postmaster, broker] {
          postgres_ = std::max(postgres_.load(), tree_pss_kib(postmaster));
          broker_ = std::max(broker_.load(), tree_pss_kib(broker));
        }) {}

  void record_into(Costs& costs) const {
    costs.postgres_peak_pss_kib = postgres_;
    costs.broker_peak_pss_kib = broker_;
  }

 private:
  std::atomic<long> postgres_{0};
  std::atomic<long> broker_{0};
  Sampling sampling_;  // last: starts once the members it writes exist
};

// The machine's CPU counters every 50 ms, for the share busy while the rows
// streamed (busy_window.h).
class CpuSampler {
 public:
  CpuSampler()
      : sampling_(50ms, [this] {
          const auto cpu = machine_cpu();
          std::lock_guard lock(mutex_);
          readings_.push_back({wall_ms(), cpu.busy, cpu.total});
        }) {}

  double busy_within(std::int64_t from_ms, std::int64_t to_ms) const {
    std::lock_guard lock(mutex_);
    return busy_share_within(readings_, from_ms, to_ms);
  }

 private:
  mutable std::mutex mutex_;
  std::vector<CpuReading> readings_;
  Sampling sampling_;  // last: starts once the members it writes exist
};

class RunScope {
 public:
  RunScope(const RunSettings& settings, std::size_t expected)
      : topic_(settings.partitions),
        checker_(topic_, expected),
        workdir_(testenv::unique_name("/tmp/outflow-peers")),
        slot_("outflow_" + db_.schema()),
        next_warm_up_(static_cast<std::int64_t>(expected)) {
    std::filesystem::create_directories(workdir_);
    const int backend = std::stoi(std::string(db_.sql().exec("SELECT pg_backend_pid()").value(0, 0)));
    postmaster_ = parent_of(backend);
    broker_ = broker_pid();
  }
  ~RunScope() {
    try {
      // The walsender of a stopped connector may take a moment to go.
      for (int attempt = 0; attempt < 50; ++attempt) {
        db_.sql().exec(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active",
            {{slot_}});
        if (db_.sql().exec("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", {{slot_}}).rows() == 0) break;
        std::this_thread::sleep_for(200ms);
      }
      db_.sql().exec("DROP PUBLICATION IF EXISTS " + slot_);
    } catch (...) {
    }
    std::error_code ignored;
    std::filesystem::remove_all(workdir_, ignored);  // holds the database password (Connect)
  }
  RunScope(const RunScope&) = delete;
  RunScope& operator=(const RunScope&) = delete;

  testenv::OutboxDb& db() { return db_; }
  TopicChecker& checker() { return checker_; }
  RelayTarget target() const { return {db_.table(), topic_.name(), workdir_, slot_}; }

  // Starts the relay and writes a warm-up row every second until one reaches
  // Kafka: it is connected and streaming (a row committed before Debezium's
  // slot existed never comes, hence more than one).
  std::unique_ptr<RunningRelay> start_warm(const Relay& relay, const RowShape& shape) {
    auto running = std::make_unique<RunningRelay>(relay, target());
    const auto seen = checker_.warm_up();
    const auto t0 = Steady::now();
    while (checker_.warm_up() == seen) {
      if (!running->running()) {
        throw std::runtime_error(relay.name + " exited while starting; its log:\n" + tail(running->log()));
      }
      if (seconds_since(t0) > 300) {
        throw std::runtime_error(relay.name + " delivered nothing in 5 minutes; its log:\n" + tail(running->log()));
      }
      insert_one(db_.sql(), next_warm_up_++, shape);
      const auto next = Steady::now() + 1s;
      while (checker_.warm_up() == seen && Steady::now() < next) std::this_thread::sleep_for(20ms);
    }
    if (relay.processes > 1) warm_every_replica(relay, *running, shape);
    return running;
  }

  // Agent replicas split the outbox's buckets after they start, and each
  // one's first batch waits for its producer's first connection to the
  // partition leaders (150-250 ms measured). Both are what a replica joining
  // costs once, not what steady publishing costs: wait until every replica
  // holds buckets, then send rows over 100 keys so every producer has sent.
  void warm_every_replica(const Relay& relay, RunningRelay& running, const RowShape& shape) {
    const std::string held =
        "SELECT count(*) FILTER (WHERE n >= 2), coalesce(sum(n), 0) FROM (SELECT pid, count(*) AS n FROM pg_locks "
        "WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) GROUP BY pid) AS held";
    const auto t0 = Steady::now();
    while (true) {
      // Each replica: its member lock and at least one bucket; every bucket held.
      const auto r = db_.sql().exec(held);
      if (std::stoi(std::string(r.value(0, 0))) == relay.processes &&
          std::stoi(std::string(r.value(0, 1))) == agent::publisher::kBucketCount + relay.processes) {
        break;
      }
      if (!running.running()) throw std::runtime_error(relay.name + " exited while its replicas split the buckets");
      if (seconds_since(t0) > 60) {
        throw std::runtime_error(relay.name + ": the replicas did not split the buckets in a minute; log:\n" +
                                 tail(running.log()));
      }
      std::this_thread::sleep_for(50ms);
    }
    const auto seen = checker_.warm_up();
    constexpr std::size_t kRows = 100;
    for (std::size_t i = 0; i < kRows; ++i) insert_one(db_.sql(), next_warm_up_++, shape);
    while (checker_.warm_up() < seen + kRows) {
      if (seconds_since(t0) > 120) throw std::runtime_error(relay.name + ": warm-up rows over every key did not arrive");
      std::this_thread::sleep_for(20ms);
    }
  }

  bool all_marked() {
    return db_.sql().exec("SELECT 1 FROM outbox WHERE published_at IS NULL LIMIT 1").rows() == 0;
  }

  long record_batches() const { return record_batches_on_disk(topic_.name(), topic_.partitions()); }
  double broker_cpu() const { return tree_cpu_seconds(broker_); }
  double broker_compiler_cpu() const { return jit_compiler_cpu_seconds(broker_); }
  std::map<int, double> postgres_cpu_by_pid() const { return tree_cpu_by_pid(postmaster_); }
  double broker_wait() const { return run_queue_wait_seconds(broker_); }
  std::map<int, double> postgres_wait_by_pid() const { return tree_run_queue_wait_by_pid(postmaster_); }
  // What the server's processes alive now waited for a core since `before`,
  // as session_cpu() counts CPU (a process started in between from zero).
  std::map<std::string, double> postgres_wait_growth(const std::map<int, double>& before) const {
    std::vector<SessionReading> now;
    for (const auto& [pid, seconds] : tree_run_queue_wait_by_pid(postmaster_)) now.push_back({pid, "", seconds});
    return session_cpu(before, now);
  }
  // The server's processes alive now with their names, as session_cpu() takes them.
  std::vector<SessionReading> postgres_sessions() {
    const auto names = db_.sql().exec(
        "SELECT pid, CASE WHEN backend_type = 'client backend' THEN application_name ELSE backend_type END "
        "FROM pg_stat_activity");
    std::map<int, std::string> name_of;
    for (int i = 0; i < names.rows(); ++i) name_of[std::stoi(std::string(names.value(i, 0)))] = names.value(i, 1);
    std::vector<SessionReading> sessions;
    for (const auto& [pid, cpu] : tree_cpu_by_pid(postmaster_)) {
      const auto named = name_of.find(pid);
      sessions.push_back({pid, pid == postmaster_ ? "postmaster" : named == name_of.end() ? "" : named->second, cpu});
    }
    return sessions;
  }
  std::unique_ptr<ServerMemoryPeak> server_memory() const {
    return std::make_unique<ServerMemoryPeak>(postmaster_, broker_);
  }

  // Loss and duplicates once late messages had a moment to arrive.
  Deliveries deliveries() {
    std::this_thread::sleep_for(500ms);
    Deliveries d;
    checker_.inspect([&](const DeliveryTally& t) {
      d.lost = t.lost();
      d.duplicates = t.duplicates();
      d.unidentified = t.unidentified();
    });
    return d;
  }

  static std::string tail(const std::string& log) { return log.substr(log.size() > 4000 ? log.size() - 4000 : 0); }

 private:
  testenv::OutboxDb db_;
  BenchTopic topic_;
  TopicChecker checker_;
  std::string workdir_;
  std::string slot_;
  std::int64_t next_warm_up_;
  int postmaster_ = -1;
  int broker_ = -1;
};

// What a span of a run cost the machine and the servers, and where the
// machine's CPU went: readings when it starts, the differences when it ends.
// The relay's own figures are the caller's (a drain counts its whole life).
class SpanCosts {
 public:
  explicit SpanCosts(RunScope& scope)
      : scope_(scope),
        batches_(scope.record_batches()),
        machine_(machine_cpu()),
        broker_(scope.broker_cpu()),
        sessions_(scope.postgres_cpu_by_pid()),
        compiler_(scope.broker_compiler_cpu()),
        bench_(process_cpu_seconds(getpid())),
        postgres_waits_(scope.postgres_wait_by_pid()),
        broker_wait_(scope.broker_wait()),
        pressure_(cpu_pressure_seconds()),
        started_(Steady::now()),
        server_memory_(scope.server_memory()) {}

  // Call while the relay still runs: its sessions close when it stops.
  void record_into(Costs& costs) {
    // The server's processes are read once at each end: their sum is its CPU.
    const auto sessions = scope_.postgres_sessions();
    costs.postgres_cpu_s = 0;
    for (const auto& s : sessions) costs.postgres_cpu_s += s.cpu_s;
    for (const auto& [pid, cpu] : sessions_) costs.postgres_cpu_s -= cpu;
    costs.broker_cpu_s = scope_.broker_cpu() - broker_;
    costs.postgres_sessions_cpu_s = session_cpu(sessions_, sessions);
    costs.broker_compiler_cpu_s = scope_.broker_compiler_cpu() - compiler_;
    costs.bench_cpu_s = process_cpu_seconds(getpid()) - bench_;
    costs.postgres_wait_s = 0;
    for (const auto& [name, seconds] : scope_.postgres_wait_growth(postgres_waits_)) costs.postgres_wait_s += seconds;
    costs.broker_wait_s = scope_.broker_wait() - broker_wait_;
    const double pressure = cpu_pressure_seconds();
    costs.cpu_pressure_s = pressure_ >= 0 && pressure >= 0 ? pressure - pressure_ : -1;
    costs.span_s = seconds_since(started_);
    const auto machine = machine_cpu();
    costs.machine_busy = busy_share(machine_, machine);
    costs.cores = core_seconds(machine_, machine);
    costs.record_batches = batches_since(batches_, scope_.record_batches());
    server_memory_->record_into(costs);
    costs.load = load_average();
  }

 private:
  RunScope& scope_;
  long batches_;
  MachineCpu machine_;
  double broker_;
  std::map<int, double> sessions_;  // the database server's processes: pid -> CPU seconds
  double compiler_;
  double bench_;
  std::map<int, double> postgres_waits_;  // pid -> seconds waiting for a core
  double broker_wait_;
  double pressure_;
  Steady::time_point started_;
  std::unique_ptr<ServerMemoryPeak> server_memory_;
};

}  // namespace

DrainRun drain(const Relay& relay, std::int64_t rows, const RunSettings& settings) {
  RunScope scope(settings, static_cast<std::size_t>(rows));
  // A relay that was set up and then stopped while the backlog built up.
  scope.start_warm(relay, settings.shape)->stop();
  preload(scope.db().sql(), 0, rows, settings.shape);
  scope.db().sql().exec("ANALYZE outbox");

  DrainRun r;
  const CpuSampler cpu_readings;
  SpanCosts span(scope);
  const auto started_ms = wall_ms();
  const auto t0 = Steady::now();
  RunningRelay running(relay, scope.target());
  const auto done = [&] {
    return scope.checker().delivered() == static_cast<std::size_t>(rows) && (!relay.marks_rows || scope.all_marked());
  };
  while (!done()) {
    if (!running.running()) throw std::runtime_error(relay.name + " exited; its log:\n" + RunScope::tail(running.log()));
    if (seconds_since(t0) > 1800) {
      throw std::runtime_error(fmt::format("{} delivered {} of {} rows in 30 minutes", relay.name,
                                           scope.checker().delivered(), rows));
    }
    std::this_thread::sleep_for(20ms);
  }
  r.seconds = seconds_since(t0);
  r.costs.relay_cpu_s = running.cpu_seconds();  // its whole life: start-up belongs to a drain after downtime
  r.costs.relay_wait_s = running.run_queue_wait_seconds();
  r.costs.relay_peak_rss_kib = running.peak_rss_kib();
  span.record_into(r.costs);
  running.stop();
  scope.checker().inspect([&](const DeliveryTally& t) {
    r.first_append_s = static_cast<double>(t.earliest_ms() - started_ms) / 1000.0;
    const double streamed_s = static_cast<double>(t.latest_ms() - t.earliest_ms()) / 1000.0;
    r.streaming_rate = streamed_s > 0 ? static_cast<double>(rows - 1) / streamed_s : 0;
    r.costs.machine_busy_streaming = cpu_readings.busy_within(t.earliest_ms(), t.latest_ms());
  });
  r.deliveries = scope.deliveries();
  return r;
}

LatencyRun latency(const Relay& relay, int rate, int seconds, const RunSettings& settings) {
  const std::int64_t count = static_cast<std::int64_t>(rate) * seconds;
  RunScope scope(settings, static_cast<std::size_t>(count));
  auto running = scope.start_warm(relay, settings.shape);

  LatencyRun r;
  const double relay_before = running->cpu_seconds();
  const double relay_wait_before = running->run_queue_wait_seconds();
  SpanCosts span(scope);
  const auto t0 = Steady::now();
  const auto committed_us = write_paced(testenv::require("OUTFLOW_TEST_PG_URL"), scope.db().schema(), count, rate,
                                        settings.shape);
  r.achieved_rate = static_cast<double>(count) / seconds_since(t0);
  // Every row counts, however late: a relay far behind is slow, not lossy.
  // What has not arrived once it made no progress for a minute is lost.
  const auto written = Steady::now();
  auto progress = written;
  std::size_t seen = scope.checker().delivered();
  while (seen < static_cast<std::size_t>(count) && seconds_since(progress) < 60 && seconds_since(written) < 1200) {
    std::this_thread::sleep_for(20ms);
    if (const auto now_seen = scope.checker().delivered(); now_seen != seen) {
      seen = now_seen;
      progress = Steady::now();
    }
  }
  r.costs.relay_cpu_s = running->cpu_seconds() - relay_before;
  r.costs.relay_wait_s = running->run_queue_wait_seconds() - relay_wait_before;
  r.costs.relay_peak_rss_kib = running->peak_rss_kib();
  span.record_into(r.costs);
  running->stop();
  scope.checker().inspect([&](const DeliveryTally& t) {
    for (std::size_t i = 0; i < committed_us.size(); ++i) {
      const auto appended = t.first_append_ms(i);
      if (appended >= 0) r.ms.push_back(static_cast<double>(appended) - static_cast<double>(committed_us[i]) / 1000.0);
    }
  });
  r.deliveries = scope.deliveries();
  return r;
}

}  // namespace outflow::bench
