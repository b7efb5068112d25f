// Benchmark of the outbox publisher against the real PostgreSQL and broker of
// the test environment, each figure beside a baseline measured in the same
// run on the same machine (hack/bench.sh runs it):
//
//  1. Throughput: N rows preloaded into an outbox, one publisher (a child
//     process, so its peak RSS and CPU time are its own) drains them; the
//     ceiling is a bare librdkafka producer with the publisher's settings
//     sending the same N messages.
//  2. Latency at a moderate rate: single-row transactions committed at a fixed
//     rate while a publisher runs; commit -> broker append, against a bare
//     producer's produce() -> broker append at the same rate.
//  3. Where a batch's time goes: the publisher's own steps (read, produce and
//     wait for the reports, mark) timed one by one.
//
// Not a test: it prints figures and fails only when something was lost.

#include "agent/outbox_fixture.h"
#include "agent/publisher/batch.h"
#include "agent/publisher/in_flight_batch.h"
#include "agent/publisher/kafka_producer.h"
#include "common/kafka/producer_settings.h"
#include "agent/publisher/outbox_store.h"
#include "agent/publisher/publisher.h"
#include "common/clock.h"
#include "common/kafka/admin.h"
#include "peers/machine.h"
#include "testenv.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

using namespace outflow;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
namespace pub = outflow::agent::publisher;

namespace {

struct Options {
  int rows = 100000;
  int payload_bytes = 1024;
  int keys = 1000;
  int partitions = 12;
  int batch_size = pipeline::OutboxSpec{}.batch_size;
  int rate = 500;        // rows/s in the latency phase
  int seconds = 20;      // length of the latency phase
  int rounds = 3;        // throughput runs per side, interleaved; the median is reported
};

// --rows 5000 or OUTFLOW_BENCH_ROWS=5000 (the flag wins).
Options parse_options(int argc, char** argv) {
  Options o;
  const std::vector<std::pair<std::string, int*>> known = {
      {"rows", &o.rows},         {"payload-bytes", &o.payload_bytes}, {"keys", &o.keys},
      {"partitions", &o.partitions}, {"batch-size", &o.batch_size},   {"rate", &o.rate},
      {"seconds", &o.seconds},       {"rounds", &o.rounds}};
  auto parse_int = [](const std::string& name, std::string_view text) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value <= 0) {
      throw std::invalid_argument(fmt::format("{} must be a positive integer, not \"{}\"", name, text));
    }
    return value;
  };
  for (const auto& [name, field] : known) {
    std::string env = "OUTFLOW_BENCH_" + name;
    std::replace(env.begin(), env.end(), '-', '_');
    std::transform(env.begin(), env.end(), env.begin(), [](unsigned char c) { return std::toupper(c); });
    if (const char* value = std::getenv(env.c_str()); value && *value) *field = parse_int(env, value);
  }
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto it = std::find_if(known.begin(), known.end(), [&](const auto& k) { return arg == "--" + k.first; });
    if (it == known.end() || i + 1 >= argc) {
      std::string names;
      for (const auto& k : known) names += " --" + k.first + " N";
      throw std::invalid_argument("usage: outflow_publisher_bench [" + names + " ]");
    }
    *it->second = parse_int(arg, argv[++i]);
  }
  return o;
}

std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double seconds_since(Steady::time_point t0) { return std::chrono::duration<double>(Steady::now() - t0).count(); }

// The same bytes the outbox fixture's insert_many() writes for row i: the
// number, padded with dots, so consumers can tell rows apart.
std::string payload_for(int i, int bytes) {
  auto text = std::to_string(i);
  if (static_cast<int>(text.size()) < bytes) text.append(static_cast<std::size_t>(bytes) - text.size(), '.');
  return text;
}

std::string key_for(int i, int keys) { return "k" + std::to_string(i % keys); }

// The row number a payload starts with.
int row_of(std::string_view payload) {
  int value = -1;
  std::from_chars(payload.data(), payload.data() + payload.size(), value);
  return value;
}

// A topic of the bench's own, deleted again at the end of its phase: a
// round of 100k rows leaves 100 MB in the broker's log otherwise.
class ScopedTopic {
 public:
  explicit ScopedTopic(int partitions, std::map<std::string, std::string> config = {})
      : name_(testenv::unique_name("bench")), admin_(admin_client()) {
    const auto outcomes =
        kafka::create_topics(admin_.get(), {{name_, partitions, 1, std::move(config)}}, std::chrono::seconds(30));
    if (outcomes.size() != 1 || !outcomes[0].ok()) {
      throw std::runtime_error("cannot create topic " + name_ + ": " +
                               (outcomes.empty() ? "" : outcomes[0].message));
    }
  }
  ~ScopedTopic() {
    try {
      kafka::delete_topics(admin_.get(), {name_}, std::chrono::seconds(30));
    } catch (...) {
    }
  }
  ScopedTopic(const ScopedTopic&) = delete;
  ScopedTopic& operator=(const ScopedTopic&) = delete;

  const std::string& name() const { return name_; }

 private:
  static kafka::ClientHandle admin_client() {
    return kafka::make_client(RD_KAFKA_PRODUCER,
                              kafka::make_conf(kafka::client_properties(testenv::plaintext_kafka())));
  }
  std::string name_;
  kafka::ClientHandle admin_;
};

// Kafka settings as the agent gets them from a spec with default timeouts.
kafka::ConnectionSettings agent_kafka() {
  auto s = testenv::plaintext_kafka();
  s.request_timeout_ms = pipeline::PipelineSpec{}.kafka.request_timeout_ms;
  return s;
}

// Sum of the high watermarks: how many messages the topic holds (duplicates
// from a retry would show up here).
std::int64_t messages_in(const std::string& topic, int partitions) {
  auto client = kafka::make_client(RD_KAFKA_PRODUCER, kafka::make_conf(kafka::client_properties(agent_kafka())));
  std::int64_t total = 0;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(client.get(), topic.c_str(), p, &low, &high, 10000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("watermarks of " + topic + " unavailable");
    }
    total += high;
  }
  return total;
}

// ---------------------------------------------------------------------------
// The bare producer: librdkafka with exactly the publisher's producer
// settings (kafka_producer.cpp), and nothing else around it.

class BareProducer {
 public:
  // Called from rd_kafka_poll() with the message's opaque index and whether it was acknowledged.
  using Report = std::function<void(std::size_t index, bool ok)>;

  explicit BareProducer(Report report, int linger_ms = 5) : report_(std::move(report)) {
    // Exactly the publisher's producer settings, linger aside.
    auto properties = kafka::producer_properties(agent_kafka());
    properties.push_back({"linger.ms", std::to_string(linger_ms)});
    auto conf = kafka::make_conf(properties);
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &BareProducer::on_delivery);
    client_ = kafka::make_client(RD_KAFKA_PRODUCER, std::move(conf));
  }

  // The same message the publisher sends for an outbox row: key, payload and
  // the outflow-event-id header (36 bytes), copied into librdkafka's queue.
  // Returns false when the local queue is full.
  bool produce(const std::string& topic, const std::string& key, const std::string& payload, std::size_t index) {
    kafka::HeadersHandle headers(rd_kafka_headers_new(1));
    const auto event_id = fmt::format("00000000-0000-4000-8000-{:012}", index);
    rd_kafka_header_add(headers.get(), "outflow-event-id", -1, event_id.data(),
                        static_cast<ssize_t>(event_id.size()));
    const void* key_data = key.data();
    const std::size_t key_size = key.size();
    void* value_data = const_cast<char*>(payload.data());
    const std::size_t value_size = payload.size();
    void* opaque = reinterpret_cast<void*>(static_cast<std::uintptr_t>(index));
    const auto error = rd_kafka_producev(client_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                         RD_KAFKA_V_KEY(key_data, key_size), RD_KAFKA_V_VALUE(value_data, value_size),
                                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers.get()),
                                         RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {
      (void)headers.release();  // librdkafka owns them now
      return true;
    }
    if (error == RD_KAFKA_RESP_ERR__QUEUE_FULL) return false;
    throw std::runtime_error(std::string("produce failed: ") + rd_kafka_err2str(error));
  }

  void poll(std::chrono::milliseconds timeout) { rd_kafka_poll(client_.get(), static_cast<int>(timeout.count())); }

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    static_cast<BareProducer*>(opaque)->report_(reinterpret_cast<std::uintptr_t>(message->_private),
                                                message->err == RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  Report report_;
  kafka::ClientHandle client_;
};

// ---------------------------------------------------------------------------
// CPU accounting from /proc, to say where the time went: the agent, the
// PostgreSQL server (postmaster and every child) and the broker, against
// what the whole machine (2 cores, shared with other people's builds) did.

double rusage_cpu(const rusage& u) {
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

using bench::parent_of;  // bench/peers/machine.h
using bench::tree_cpu_seconds;

// Busy and total jiffies of the whole machine.
std::pair<double, double> machine_jiffies() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  double total = 0, idle = 0;
  for (int i = 0; i < 10; ++i) {
    double v = 0;
    in >> v;
    total += v;
    if (i == 3 || i == 4) idle += v;  // idle, iowait
  }
  return {total - idle, total};
}

struct CpuSnapshot {
  double agent = 0, self = 0, postgres = 0, kafka = 0, machine_busy = 0, machine_total = 0;
};

struct Parts {
  int postmaster = -1;
  int kafka = -1;
};

Parts find_parts(pg::Connection& sql) {
  Parts parts;
  const int backend = std::stoi(std::string(sql.exec("SELECT pg_backend_pid()").value(0, 0)));
  parts.postmaster = parent_of(backend);
  parts.kafka = bench::broker_pid();
  return parts;
}

CpuSnapshot cpu_now(const Parts& parts, double agent_seconds) {
  CpuSnapshot s;
  s.agent = agent_seconds;
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  s.self = rusage_cpu(self);
  s.postgres = tree_cpu_seconds(parts.postmaster);
  s.kafka = tree_cpu_seconds(parts.kafka);
  std::tie(s.machine_busy, s.machine_total) = machine_jiffies();
  return s;
}

// "CPU over 5.1 s: agent 0.58 s, bench 0.10 s, PostgreSQL 1.70 s, Kafka 0.66 s; machine 100% busy".
// `self` names what runs inside the bench process in that phase.
std::string cpu_story(const CpuSnapshot& a, const CpuSnapshot& b, double wall, std::string_view self) {
  const double busy = b.machine_total > a.machine_total
                          ? 100.0 * (b.machine_busy - a.machine_busy) / (b.machine_total - a.machine_total)
                          : 0;
  std::string agent = b.agent > a.agent ? fmt::format("agent process {:.2f} s, ", b.agent - a.agent) : "";
  return fmt::format("CPU over {:.1f} s: {}{} {:.2f} s, PostgreSQL {:.2f} s, Kafka {:.2f} s; machine {:.0f}% busy",
                     wall, agent, self, b.self - a.self, b.postgres - a.postgres, b.kafka - a.kafka, busy);
}

// ---------------------------------------------------------------------------
// The publisher as its own process: the bench re-runs itself with
// --agent-child; the child publishes until its stdin closes.

int run_agent_child(const std::string& table, const std::string& topic, int batch_size) {
  spdlog::set_level(spdlog::level::warn);
  pub::PublisherSettings s;
  s.spec = testenv::pipeline_for(table, topic);
  s.spec.outbox.batch_size = batch_size;
  s.database_url = testenv::require("OUTFLOW_TEST_PG_URL");
  s.kafka = agent_kafka();
  breaker::CircuitBreaker breaker(s.spec.circuit_breaker, SteadyClock::instance());
  pub::Publisher publisher(std::move(s), breaker, {});
  publisher.start();
  char byte = 0;
  while (::read(STDIN_FILENO, &byte, 1) > 0) {
  }
  publisher.stop();
  return 0;
}

class AgentProcess {
 public:
  AgentProcess(const std::string& table, const std::string& topic, int batch_size) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    stdin_ = fds[1];
    std::vector<std::string> args = {"/proc/self/exe", "--agent-child", table, topic, std::to_string(batch_size)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    const int error = posix_spawn(&pid_, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[0]);
    if (error != 0) {
      ::close(stdin_);
      throw std::runtime_error("cannot start the agent process");
    }
  }
  ~AgentProcess() {
    try {
      stop();
    } catch (...) {
    }
  }
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  // The child's own peak RSS (VmHWM), read while it runs. Not its
  // ru_maxrss: posix_spawn's child shares the parent's memory until exec, and
  // the kernel folds that address space's peak (the bench's) into ru_maxrss.
  long peak_rss_kib() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    }
    throw std::runtime_error("no VmHWM for the agent process");
  }

  // Closes its stdin (it stops and drains) and returns its resource usage.
  rusage stop() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
    if (pid_ > 0) {
      int status = 0;
      ::wait4(pid_, &status, 0, &usage_);
      pid_ = -1;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("the agent process failed");
    }
    return usage_;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  rusage usage_{};
};

// ---------------------------------------------------------------------------
// Phase 1: throughput.

struct Throughput {
  double seconds = 0;
  double marking_seconds = 0;  // agent: first to last mark, start-up excluded
  double first_mark_seconds = 0;  // agent: start to first batch marked (10 ms polls)
  std::int64_t in_topic = 0;
  long peak_rss_kib = 0;
  long idle_rss_kib = 0;
  std::string cpu;
};

Throughput agent_throughput(const Options& o, const Parts& parts) {
  testenv::OutboxDb db;
  const ScopedTopic scoped(o.partitions);
  const auto& topic = scoped.name();
  Throughput r;
  {
    // The same process with nothing to publish, for scale: what the peak
    // under load adds to an idle agent.
    AgentProcess idle(db.table(), topic, o.batch_size);
    std::this_thread::sleep_for(1500ms);
    r.idle_rss_kib = idle.peak_rss_kib();
    idle.stop();
  }
  const auto t_load = Steady::now();
  db.insert_many(o.rows, o.keys, o.payload_bytes);
  // A 100k-row load is what autovacuum analyzes within a minute; the
  // publisher's claim plan should not depend on having started before that.
  db.sql().exec("ANALYZE outbox");
  std::cout << fmt::format("  preloaded {} rows in {:.1f} s\n", o.rows, seconds_since(t_load)) << std::flush;

  const auto before = cpu_now(parts, 0);
  const auto t0 = Steady::now();
  AgentProcess agent(db.table(), topic, o.batch_size);
  // Rows go out in id order (one publisher owns every bucket), so the first
  // and the last id tell when the first batch and everything was marked. A
  // primary-key lookup every 10 ms: a count(*) of 100k pending rows at that
  // pace would cost PostgreSQL more CPU than the agent's own statements.
  const auto ids = db.sql().exec("SELECT min(id), max(id) FROM outbox");
  const std::string first_id(ids.value(0, 0)), last_id(ids.value(0, 1));
  auto marked = [&](const std::string& id) {
    return db.sql().exec("SELECT published_at IS NOT NULL FROM outbox WHERE id = $1", {{id}}).value(0, 0) == "t";
  };
  while (!marked(last_id) || db.pending() > 0) {
    if (r.first_mark_seconds == 0 && marked(first_id)) r.first_mark_seconds = seconds_since(t0);
    if (seconds_since(t0) > 600) throw std::runtime_error("the agent did not drain the outbox in 10 minutes");
    std::this_thread::sleep_for(10ms);
  }
  r.seconds = seconds_since(t0);
  const auto after = cpu_now(parts, 0);
  r.peak_rss_kib = agent.peak_rss_kib();
  const auto usage = agent.stop();
  auto with_agent = after;
  with_agent.agent = rusage_cpu(usage);  // its whole life: start-up and drain are a few ms
  r.cpu = cpu_story(before, with_agent, r.seconds, "bench's polling");
  r.marking_seconds = std::stod(std::string(
      db.sql().exec("SELECT extract(epoch FROM max(published_at) - min(published_at)) FROM outbox").value(0, 0)));
  r.in_topic = messages_in(topic, o.partitions);
  return r;
}

Throughput baseline_throughput(const Options& o, const Parts& parts) {
  const ScopedTopic scoped(o.partitions);
  const auto& topic = scoped.name();
  std::vector<std::string> payloads;
  payloads.reserve(static_cast<std::size_t>(o.rows));
  for (int i = 0; i < o.rows; ++i) payloads.push_back(payload_for(i, o.payload_bytes));

  Throughput r;
  std::size_t acknowledged = 0, failed = 0;
  const auto before = cpu_now(parts, 0);
  const auto t0 = Steady::now();
  {
    BareProducer producer([&](std::size_t, bool ok) { ok ? ++acknowledged : ++failed; });
    for (int i = 0; i < o.rows; ++i) {
      while (!producer.produce(topic, key_for(i, o.keys), payloads[static_cast<std::size_t>(i)],
                               static_cast<std::size_t>(i))) {
        producer.poll(5ms);  // local queue full: let deliveries drain it
      }
      producer.poll(0ms);
    }
    while (acknowledged + failed < static_cast<std::size_t>(o.rows)) producer.poll(50ms);
    r.seconds = seconds_since(t0);
  }
  const auto after = cpu_now(parts, 0);
  r.cpu = cpu_story(before, after, r.seconds, "bare producer");
  if (failed > 0) throw std::runtime_error(fmt::format("the bare producer lost {} message(s)", failed));
  r.in_topic = messages_in(topic, o.partitions);
  return r;
}

// ---------------------------------------------------------------------------
// Phase 2: latency at a fixed rate.

// Reads a topic whose timestamps are the broker's LogAppendTime and records,
// for each row number, when the broker appended it (ms since epoch).
class AppendTimeReader {
 public:
  AppendTimeReader(const std::string& topic, int partitions, std::size_t expected)
      : appended_ms_(expected, -1), thread_([this, topic, partitions] { run(topic, partitions); }) {}
  ~AppendTimeReader() { finish(); }
  AppendTimeReader(const AppendTimeReader&) = delete;
  AppendTimeReader& operator=(const AppendTimeReader&) = delete;

  // Waits until every expected row was seen (or `timeout`); returns the times.
  std::vector<std::int64_t> wait(std::chrono::seconds timeout) {
    const auto deadline = Steady::now() + timeout;
    while (seen_.load() < appended_ms_.size() && Steady::now() < deadline) std::this_thread::sleep_for(50ms);
    finish();
    return appended_ms_;
  }

 private:
  void finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  void run(const std::string& topic, int partitions) {
    auto props = kafka::client_properties(testenv::plaintext_kafka());
    props.push_back({"group.id", testenv::unique_name("bench-reader")});
    props.push_back({"enable.auto.commit", "false"});
    props.push_back({"fetch.wait.max.ms", "10"});
    auto consumer = kafka::make_client(RD_KAFKA_CONSUMER, kafka::make_conf(props));
    kafka::PartitionListHandle assignment(rd_kafka_topic_partition_list_new(partitions));
    for (int p = 0; p < partitions; ++p) {
      rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(consumer.get(), assignment.get());
    while (!stop_.load()) {
      kafka::MessageHandle message(rd_kafka_consumer_poll(consumer.get(), 50));
      if (!message || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
      const auto ts = rd_kafka_message_timestamp(message.get(), &type);
      if (type != RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME) continue;
      const int row = row_of({static_cast<const char*>(message->payload), message->len});
      if (row < 0 || static_cast<std::size_t>(row) >= appended_ms_.size()) continue;
      // At-least-once: a duplicate keeps the first append.
      if (appended_ms_[static_cast<std::size_t>(row)] < 0) {
        appended_ms_[static_cast<std::size_t>(row)] = ts;
        ++seen_;
      }
    }
    rd_kafka_consumer_close(consumer.get());
  }

  std::vector<std::int64_t> appended_ms_;
  std::atomic<std::size_t> seen_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Calls send(i) for i in [0, count) at `rate` per second, on schedule: a late
// send goes at once and does not push the ones after it back.
template <typename Send, typename Idle>
void paced(int count, int rate, Send send, Idle idle) {
  const auto t0 = Steady::now();
  for (int i = 0; i < count; ++i) {
    const auto due = t0 + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(
                              static_cast<double>(i) / rate));
    while (Steady::now() < due) idle(due);
    send(i);
  }
}

struct Latencies {
  std::vector<double> ms;  // the primary figure, per row
  std::vector<double> ack_ms;  // secondary: the client's own view of acknowledgement
  std::size_t missing = 0;
  double achieved_rate = 0;
  std::string cpu;
};

// The broker stamps each message with the time it appended it.
std::map<std::string, std::string> append_time() { return {{"message.timestamp.type", "LogAppendTime"}}; }

Latencies agent_latency(const Options& o, const Parts& parts) {
  testenv::OutboxDb db;
  const ScopedTopic scoped(o.partitions, append_time());
  const auto& topic = scoped.name();
  const int count = o.rate * o.seconds;

  Latencies r;
  std::mutex hook_mutex;
  pub::PublisherHooks hooks;
  hooks.published = [&](std::size_t, const std::vector<double>& seconds) {
    std::lock_guard lock(hook_mutex);
    for (const double s : seconds) r.ack_ms.push_back(s * 1000.0);
  };
  pub::PublisherSettings s;
  s.spec = testenv::pipeline_for(db.table(), topic);
  s.spec.outbox.batch_size = o.batch_size;
  s.database_url = testenv::require("OUTFLOW_TEST_PG_URL");
  s.kafka = agent_kafka();
  breaker::CircuitBreaker breaker(s.spec.circuit_breaker, SteadyClock::instance());
  pub::Publisher publisher(std::move(s), breaker, hooks);
  publisher.start();
  const auto ready = Steady::now() + 20s;
  while (publisher.stats().owned_buckets < 64 && Steady::now() < ready) std::this_thread::sleep_for(20ms);
  if (publisher.stats().owned_buckets == 0) throw std::runtime_error("the publisher owns no buckets");

  AppendTimeReader reader(topic, o.partitions, static_cast<std::size_t>(count));

  // One second of warm-up rows (numbered past the measured ones, so the
  // reader ignores them): the producer learns the new topic's leaders and
  // gets its idempotence PID before the clock runs, as a running agent has.
  paced(
      o.rate, o.rate, [&](int i) { db.insert(key_for(i, o.keys), payload_for(count + i, o.payload_bytes)); },
      [](Steady::time_point due) { std::this_thread::sleep_until(due); });
  const auto warm = Steady::now() + 30s;
  while (db.pending() > 0 && Steady::now() < warm) std::this_thread::sleep_for(20ms);
  {
    std::lock_guard lock(hook_mutex);
    r.ack_ms.clear();
  }
  std::this_thread::sleep_for(500ms);  // back in its idle wait for NOTIFY

  std::vector<std::int64_t> committed_us(static_cast<std::size_t>(count));
  const auto before = cpu_now(parts, 0);
  const auto t0 = Steady::now();
  // One autocommit INSERT is one single-row transaction. The commit time is
  // taken when the INSERT returns: the row is visible (and NOTIFY sent) by then.
  paced(
      count, o.rate,
      [&](int i) {
        db.insert(key_for(i, o.keys), payload_for(i, o.payload_bytes));
        committed_us[static_cast<std::size_t>(i)] = wall_us();
      },
      [](Steady::time_point due) { std::this_thread::sleep_until(due); });
  const double insert_seconds = seconds_since(t0);
  r.achieved_rate = count / insert_seconds;
  const auto appended = reader.wait(30s);
  const auto after = cpu_now(parts, 0);
  r.cpu = cpu_story(before, after, seconds_since(t0), "agent + inserter + reader");
  publisher.stop();
  for (int i = 0; i < count; ++i) {
    const auto a = appended[static_cast<std::size_t>(i)];
    if (a < 0) {
      ++r.missing;
      continue;
    }
    r.ms.push_back(static_cast<double>(a * 1000 - committed_us[static_cast<std::size_t>(i)]) / 1000.0);
  }
  return r;
}

Latencies baseline_latency(const Options& o, const Parts& parts) {
  const ScopedTopic scoped(o.partitions, append_time());
  const auto& topic = scoped.name();
  const int count = o.rate * o.seconds;
  std::vector<std::string> payloads;
  for (int i = 0; i < count; ++i) payloads.push_back(payload_for(i, o.payload_bytes));

  Latencies r;
  std::vector<std::int64_t> produced_us(static_cast<std::size_t>(count), 0);
  std::size_t failed = 0, warmed = 0;
  BareProducer producer([&](std::size_t i, bool ok) {
    if (i >= produced_us.size()) {
      ++warmed;
    } else if (!ok) {
      ++failed;
    } else {
      r.ack_ms.push_back(static_cast<double>(wall_us() - produced_us[i]) / 1000.0);
    }
  });
  AppendTimeReader reader(topic, o.partitions, static_cast<std::size_t>(count));
  // The same second of warm-up as the agent gets.
  // rd_kafka_poll() waits in whole milliseconds: under one left, sleep
  // instead of spinning on poll(0), which would steal a core from the broker.
  auto serve = [&](Steady::time_point due) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(due - Steady::now());
    if (left >= 1ms) {
      producer.poll(left);
    } else {
      std::this_thread::sleep_until(due);
    }
  };
  paced(
      o.rate, o.rate,
      [&](int i) {
        const auto n = static_cast<std::size_t>(count + i);
        if (!producer.produce(topic, key_for(i, o.keys), payload_for(count + i, o.payload_bytes), n)) {
          throw std::runtime_error("local queue full at a moderate rate");
        }
      },
      serve);
  const auto warm = Steady::now() + 30s;
  while (warmed < static_cast<std::size_t>(o.rate) && Steady::now() < warm) producer.poll(20ms);
  producer.poll(500ms);

  const auto before = cpu_now(parts, 0);
  const auto t0 = Steady::now();
  paced(
      count, o.rate,
      [&](int i) {
        produced_us[static_cast<std::size_t>(i)] = wall_us();
        if (!producer.produce(topic, key_for(i, o.keys), payloads[static_cast<std::size_t>(i)],
                              static_cast<std::size_t>(i))) {
          throw std::runtime_error("local queue full at a moderate rate");
        }
      },
      // Serving delivery reports while waiting for the next send, as an
      // application's poll loop would.
      serve);
  r.achieved_rate = count / seconds_since(t0);
  while (r.ack_ms.size() + failed < static_cast<std::size_t>(count) && seconds_since(t0) < o.seconds + 30.0) {
    producer.poll(50ms);
  }
  const auto appended = reader.wait(30s);
  const auto after = cpu_now(parts, 0);
  r.cpu = cpu_story(before, after, seconds_since(t0), "producer + reader");
  for (int i = 0; i < count; ++i) {
    const auto a = appended[static_cast<std::size_t>(i)];
    if (a < 0) {
      ++r.missing;
      continue;
    }
    r.ms.push_back(static_cast<double>(a * 1000 - produced_us[static_cast<std::size_t>(i)]) / 1000.0);
  }
  r.missing += failed;
  return r;
}

// ---------------------------------------------------------------------------
// Phase 3: where a batch's time goes. The publisher's own pieces, called one
// at a time in the order its loop calls them, each timed: read (claim),
// produce and wait for every report, mark. Plus a bare producer sending the
// same batch with linger.ms 5 and 0, to show what the linger costs a loop
// that waits for its whole batch.

struct Breakdown {
  int batches = 0;
  double claim_ms = 0, publish_ms = 0, mark_ms = 0;  // means per batch
  double bare_linger5_ms = 0, bare_linger0_ms = 0;
};

Breakdown batch_breakdown(const Options& o) {
  constexpr int kBatches = 40;
  testenv::OutboxDb db;
  const ScopedTopic scoped(o.partitions);
  db.insert_many(o.rows, o.keys, o.payload_bytes);
  db.sql().exec("ANALYZE outbox");
  auto spec = testenv::pipeline_for(db.table(), scoped.name());
  spec.outbox.batch_size = o.batch_size;

  pub::OutboxStore store(testenv::require("OUTFLOW_TEST_PG_URL"), spec.outbox);
  store.connect();
  store.rebalance();
  // The publisher's own pieces: one batch in flight, reports charged to it
  // by their tokens, the producer flushed until every report is in.
  std::optional<pub::InFlightBatch> in_flight;
  pub::KafkaProducer producer(agent_kafka(), {scoped.name()}, pub::ProducerBounds{},
                              [&](std::uint64_t token, pub::Outcome outcome) {
                                if (in_flight) in_flight->report(token, std::move(outcome), Steady::now());
                              });

  Breakdown b;
  auto ms_since = [](Steady::time_point t) { return 1000.0 * seconds_since(t); };
  std::uint64_t batch_number = 0;
  for (int round = -1; round < kBatches; ++round) {  // round -1 warms the producer up, untimed
    auto t = Steady::now();
    auto rows = store.claim(o.batch_size);
    const double claim = ms_since(t);
    if (rows.empty()) break;
    t = Steady::now();
    auto plan = pub::plan_batch(rows, spec);
    in_flight.emplace(++batch_number, std::move(rows), std::move(plan.outcomes), t);
    for (auto& [index, message] : plan.to_send) {
      const auto token = in_flight->sent(index, t);
      if (auto immediate = producer.send(in_flight->rows()[index], message, token)) {
        in_flight->settled_now(index, std::move(*immediate));
      }
    }
    while (!in_flight->complete()) producer.flush(50ms);
    const auto settlement = pub::settle(in_flight->rows(), in_flight->outcomes());
    const double publish = ms_since(t);
    t = Steady::now();
    store.mark_published(settlement.published);
    const double mark = ms_since(t);
    if (round < 0) continue;
    ++b.batches;
    b.claim_ms += claim;
    b.publish_ms += publish;
    b.mark_ms += mark;
  }
  if (b.batches == 0) throw std::runtime_error("no batch to break down");
  b.claim_ms /= b.batches;
  b.publish_ms /= b.batches;
  b.mark_ms /= b.batches;

  for (const int linger : {5, 0}) {
    const ScopedTopic bare_topic(o.partitions);
    std::size_t acknowledged = 0;
    BareProducer bare([&](std::size_t, bool) { ++acknowledged; }, linger);
    double total = 0;
    for (int round = -1; round < kBatches; ++round) {
      acknowledged = 0;
      const auto t = Steady::now();
      for (int i = 0; i < o.batch_size; ++i) {
        bare.produce(bare_topic.name(), key_for(i, o.keys), payload_for(i, o.payload_bytes),
                     static_cast<std::size_t>(i));
      }
      while (acknowledged < static_cast<std::size_t>(o.batch_size)) bare.poll(100ms);
      if (round >= 0) total += ms_since(t);
    }
    (linger == 5 ? b.bare_linger5_ms : b.bare_linger0_ms) = total / kBatches;
  }
  return b;
}

Throughput median_round(std::vector<Throughput> rounds) {
  std::sort(rounds.begin(), rounds.end(), [](const auto& a, const auto& b) { return a.seconds < b.seconds; });
  return rounds[(rounds.size() - 1) / 2];
}

// "12345 (11000-13000)": the median and the range over the rounds.
std::string rate_range(const std::vector<Throughput>& rounds, double rows) {
  double low = 1e300, high = 0;
  for (const auto& r : rounds) {
    low = std::min(low, rows / r.seconds);
    high = std::max(high, rows / r.seconds);
  }
  return fmt::format("{:.0f} ({:.0f}-{:.0f})", rows / median_round(rounds).seconds, low, high);
}

// Nearest-rank percentile of an unsorted copy.
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

std::string spread(const std::vector<double>& v) {
  return fmt::format("{:.1f} / {:.1f} / {:.1f} / {:.1f}", percentile(v, 50), percentile(v, 90), percentile(v, 99),
                     percentile(v, 100));
}

void row(const std::string& what, const std::string& agent, const std::string& baseline) {
  std::cout << fmt::format("  {:<42} {:>30} {:>30}\n", what, agent, baseline);
}

int run(const Options& o) {
  spdlog::set_level(spdlog::level::warn);
  testenv::OutboxDb probe;  // a session whose parent is the postmaster
  const auto parts = find_parts(probe.sql());
  const double mb = static_cast<double>(o.rows) * o.payload_bytes / 1e6;

  std::cout << fmt::format(
      "Outflow publisher benchmark: {} rows of {} B, {} keys, {} partitions, batchSize {}; "
      "latency at {} rows/s for {} s\n",
      o.rows, o.payload_bytes, o.keys, o.partitions, o.batch_size, o.rate, o.seconds);

  // The broker's JIT and page cache warm up on a throw-away run, so neither
  // side of the comparison pays for being first.
  {
    Options warm = o;
    warm.rows = std::min(o.rows, 20000);
    std::cout << "warming up the broker...\n" << std::flush;
    baseline_throughput(warm, parts);
  }

  // Interleaved rounds, so a burst of someone else's work on this shared
  // machine hits both sides alike; the median round of each is reported.
  std::vector<Throughput> agents, bares;
  for (int round = 1; round <= o.rounds; ++round) {
    std::cout << fmt::format("throughput round {}/{}: agent...\n", round, o.rounds) << std::flush;
    agents.push_back(agent_throughput(o, parts));
    std::cout << fmt::format("  {:.2f} s; {}\n", agents.back().seconds, agents.back().cpu);
    std::cout << fmt::format("throughput round {}/{}: bare producer...\n", round, o.rounds) << std::flush;
    bares.push_back(baseline_throughput(o, parts));
    std::cout << fmt::format("  {:.2f} s; {}\n", bares.back().seconds, bares.back().cpu);
  }
  const auto agent = median_round(agents);
  const auto bare = median_round(bares);
  long peak_rss_kib = 0;
  for (const auto& a : agents) peak_rss_kib = std::max(peak_rss_kib, a.peak_rss_kib);

  std::cout << fmt::format("latency: agent at {} rows/s...\n", o.rate) << std::flush;
  const auto agent_lat = agent_latency(o, parts);
  std::cout << "  " << agent_lat.cpu << "\n";
  std::cout << fmt::format("latency: bare producer at {} msg/s...\n", o.rate) << std::flush;
  const auto bare_lat = baseline_latency(o, parts);
  std::cout << "  " << bare_lat.cpu << "\n";

  std::cout << fmt::format("where a batch of {} goes: the publisher's steps one by one...\n", o.batch_size)
            << std::flush;
  const auto breakdown = batch_breakdown(o);

  const double agent_rate = o.rows / agent.seconds;
  const double bare_rate = o.rows / bare.seconds;
  std::cout << "\n";
  row("", "agent (Publisher)", "baseline (bare producer)");
  row(fmt::format("throughput, rows/s: median (range of {})", o.rounds), rate_range(agents, o.rows),
      rate_range(bares, o.rows));
  row("throughput, MB/s (payload)", fmt::format("{:.1f}", mb / agent.seconds), fmt::format("{:.1f}", mb / bare.seconds));
  row("time for all rows (median round), s", fmt::format("{:.2f}", agent.seconds), fmt::format("{:.2f}", bare.seconds));
  row("  agent: start-up to first mark, s", fmt::format("{:.2f}", agent.first_mark_seconds), "-");
  const double batches_after_first = static_cast<double>(o.rows - o.batch_size) / o.batch_size;
  row("  agent: rows/s from first to last mark", fmt::format("{:.0f}", (o.rows - o.batch_size) / agent.marking_seconds),
      "-");
  row("  agent: ms per batch, same span",
      fmt::format("{:.1f}", 1000.0 * agent.marking_seconds / batches_after_first), "-");
  row("agent as % of the bare producer", fmt::format("{:.0f}%", 100.0 * agent_rate / bare_rate), "100%");
  row("messages in the topic", std::to_string(agent.in_topic), std::to_string(bare.in_topic));
  row("peak RSS of the agent process, MiB", fmt::format("{:.1f}", peak_rss_kib / 1024.0), "-");
  row("  the same process idle, MiB", fmt::format("{:.1f}", agent.idle_rss_kib / 1024.0), "-");
  row(fmt::format("latency at {}/s, ms p50/p90/p99/max", o.rate), spread(agent_lat.ms), spread(bare_lat.ms));
  row("  measured from .. to broker append", "INSERT commit returned", "produce() called");
  row("  report view, ms p50/p90/p99/max", spread(agent_lat.ack_ms), spread(bare_lat.ack_ms));
  row("  measured from .. to delivery report", "created_at (ms clock)", "produce() called");
  row("  achieved rate, rows/s", fmt::format("{:.0f}", agent_lat.achieved_rate),
      fmt::format("{:.0f}", bare_lat.achieved_rate));
  row("  rows never seen in Kafka", std::to_string(agent_lat.missing), std::to_string(bare_lat.missing));
  std::cout << "\n";
  std::cout << fmt::format(
      "Per batch of {} (mean of {}, the publisher's own code, one step at a time): read {:.1f} ms, "
      "produce + wait for every report {:.1f} ms, mark {:.1f} ms; a bare producer's batch takes {:.1f} ms "
      "with linger.ms 5 and {:.1f} ms with 0.\n\n",
      o.batch_size, breakdown.batches, breakdown.claim_ms, breakdown.publish_ms, breakdown.mark_ms,
      breakdown.bare_linger5_ms, breakdown.bare_linger0_ms);

  bool lost = false;
  for (const auto& r : agents) lost = lost || r.in_topic < o.rows;
  for (const auto& r : bares) lost = lost || r.in_topic < o.rows;
  lost = lost || agent_lat.missing > 0 || bare_lat.missing > 0;
  std::cout << fmt::format(
      "RESULT: one agent published {:.0f} rows/s of {} B ({:.1f} MB/s; {:.0f}/s once running), {:.0f}% of a bare "
      "idempotent producer's {:.0f}/s, with a peak RSS of {:.0f} MiB; commit-to-Kafka latency at {}/s p50 {:.1f} ms, "
      "p99 {:.1f} ms (bare producer p50 {:.1f} ms, p99 {:.1f} ms)\n",
      agent_rate, o.payload_bytes, mb / agent.seconds, (o.rows - o.batch_size) / agent.marking_seconds,
      100.0 * agent_rate / bare_rate, bare_rate,
      peak_rss_kib / 1024.0, o.rate, percentile(agent_lat.ms, 50), percentile(agent_lat.ms, 99),
      percentile(bare_lat.ms, 50), percentile(bare_lat.ms, 99));
  if (lost) {
    std::cerr << "FAILED: messages are missing (see the table)\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 5 && std::string(argv[1]) == "--agent-child") {
      return run_agent_child(argv[2], argv[3], std::stoi(argv[4]));
    }
    if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
      std::cout << "outflow_publisher_bench [--rows N] [--payload-bytes N] [--keys N] [--partitions N]\n"
                   "  [--batch-size N] [--rate N] [--seconds N] [--rounds N]\n"
                   "Each flag also as OUTFLOW_BENCH_<NAME> (e.g. OUTFLOW_BENCH_ROWS); needs the test\n"
                   "environment's variables (hack/bench.sh sets everything up).\n";
      return 0;
    }
    return run(parse_options(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "outflow_publisher_bench: " << e.what() << "\n";
    return 2;
  }
}
