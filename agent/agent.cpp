#include "agent/agent.h"

#include "agent/metrics/agent_metrics.h"
#include "agent/publisher/publisher.h"
#include "agent/replayer/replayer.h"
#include "agent/status/status_reporter.h"
#include "common/breaker/circuit_breaker.h"
#include "common/clock.h"
#include "common/http/probe_server.h"
#include "common/kube/api_client.h"
#include "common/kube/cluster_endpoint.h"
#include "common/kube/rest_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <thread>

namespace outflow::agent {

// The API server connection, only for a config with a status section.
struct KubeClient {
  explicit KubeClient(const Options& options)
      : endpoint(options.kubeconfig.empty() ? kube::load_in_cluster() : kube::load_kubeconfig(options.kubeconfig)),
        // Well inside the pod's termination grace period, which the final
        // status write has to fit into.
        rest(endpoint, std::chrono::seconds(10)),
        api(rest) {}
  kube::ClusterEndpoint endpoint;
  kube::RestClient rest;
  kube::ApiClient api;
};

struct Agent::Parts {
  Parts(const Options& options, AgentConfig c)
      : config(std::move(c)),
        kube(config.status ? std::make_unique<KubeClient>(options) : nullptr),
        metrics(config.pipeline.name),
        breaker(config.spec.circuit_breaker, SteadyClock::instance()),
        breaker_since(std::chrono::system_clock::now()) {
    publisher::PublisherSettings settings;
    settings.spec = config.spec;
    settings.database_url = config.database_url;
    settings.kafka = config.kafka;
    publisher = std::make_unique<publisher::Publisher>(std::move(settings), breaker, hooks());
    if (config.spec.dead_letter) {
      replayer::ReplayerSettings replay;
      replay.pipeline = config.pipeline;
      replay.spec = config.spec;
      replay.kafka = config.kafka;
      replay.instance_id = config.pod_name;  // static membership: a restarted container takes its place back
      replayer = std::make_unique<replayer::Replayer>(std::move(replay), breaker, replayer_hooks());
    }
    if (kube) {
      reporter = std::make_unique<StatusReporter>(kube->api, *config.status, config.pod_name,
                                                  [this] { return state(); }, options.status_interval);
    }
    metrics_server = std::make_unique<http::Server>(options.metrics_addr,
                                                    http::Endpoints{.probes = {}, .metrics = metrics.registry()});
    health_server = std::make_unique<http::Server>(
        options.health_addr,
        http::Endpoints{.probes = {{"/healthz", [this] { return liveness(); }},
                                   {"/readyz", [this] { return readiness(); }}},
                        .metrics = nullptr});
  }

  // Publisher and replayer share the breaker (one Kafka cluster); whichever
  // thread causes a transition reports it, exactly once.
  void breaker_transition(const breaker::Transition& t) {
    {
      std::lock_guard lock(mutex);
      breaker_since = std::chrono::system_clock::now();
    }
    const auto level = t.to == breaker::State::Closed ? spdlog::level::info : spdlog::level::warn;
    spdlog::log(level, "circuit breaker {} -> {}", breaker::to_string(t.from), breaker::to_string(t.to));
    metrics.breaker_transition(t.from, t.to);
    if (reporter) reporter->wake();
  }

  replayer::ReplayerHooks replayer_hooks() {
    replayer::ReplayerHooks h;
    h.breaker_transition = [this](const breaker::Transition& t) { breaker_transition(t); };
    h.received = [this](std::size_t n) { metrics.dlq_received(n); };
    h.republished = [this](std::size_t n) { metrics.dlq_republished(n); };
    h.parked = [this](std::size_t n) { metrics.dlq_parked(n); };
    h.given_up = [this](std::size_t n) { metrics.dlq_given_up(n); };
    h.due_lag = [this](double seconds) { metrics.dlq_due_lag(seconds); };
    h.consumer_failed = [this] { metrics.dlq_consumer_failed(); };
    return h;
  }

  publisher::PublisherHooks hooks() {
    publisher::PublisherHooks h;
    h.breaker_transition = [this](const breaker::Transition& t) { breaker_transition(t); };
    h.published = [this](std::size_t rows, const std::vector<double>& latencies) {
      metrics.published(rows);
      for (const double l : latencies) metrics.publish_latency(l);
    };
    h.poisoned = [this](std::size_t rows) { metrics.poisoned(rows); };
    h.backlog = [this](const publisher::Backlog& b) { metrics.backlog(b.rows, b.oldest_age_seconds); };
    return h;
  }

  AgentState state() {
    AgentState s;
    const auto snapshot = breaker.snapshot();
    s.breaker = snapshot.state;
    {
      std::lock_guard lock(mutex);
      s.breaker_since = breaker_since;
    }
    const auto stats = publisher->stats();
    if (stats.backlog) {
      s.outbox_backlog = stats.backlog->rows;
      s.oldest_pending_age_seconds = stats.backlog->oldest_age_seconds.value_or(0);
    }
    s.published_total = stats.published_total;
    s.poison_total = stats.poison_total;
    s.last_error = stats.last_error;
    s.last_error_at = stats.last_error_at;
    if (replayer) {
      const auto replay = replayer->stats();
      s.dlq_pending = replay.pending;
      s.parked_total = replay.parked_total;
      if (s.last_error.empty()) s.last_error = replay.last_error;
    }
    return s;
  }

  // One turn of the publisher's loop is bounded by a delivery wait
  // (requestTimeoutMs plus a grace) and PostgreSQL's statement_timeout (30 s);
  // well past both, the loop is stuck and only a restart helps.
  std::optional<std::string> liveness() const {
    const auto limit = std::chrono::milliseconds(2 * config.kafka.request_timeout_ms) + std::chrono::seconds(90);
    const auto idle = std::chrono::steady_clock::now() - publisher->stats().loop_heartbeat;
    if (idle > limit) {
      return fmt::format("the publisher loop has not turned for {} s",
                         std::chrono::duration_cast<std::chrono::seconds>(idle).count());
    }
    return std::nullopt;
  }

  std::optional<std::string> readiness() const {
    const auto stats = publisher->stats();
    if (stats.standing_down) return "Kafka is unreachable from this pod; its outbox buckets went to other replicas";
    if (!stats.database_connected) return "the outbox database is not connected";
    if (reporter && !reporter->api_reachable()) return "the API server has not accepted this pod's status";
    return std::nullopt;
  }

  AgentConfig config;
  std::unique_ptr<KubeClient> kube;  // only with a status section
  AgentMetrics metrics;
  breaker::CircuitBreaker breaker;
  std::mutex mutex;
  std::chrono::system_clock::time_point breaker_since;
  std::unique_ptr<publisher::Publisher> publisher;
  std::unique_ptr<replayer::Replayer> replayer;  // only with spec.deadLetter
  std::unique_ptr<StatusReporter> reporter;      // only with a status section
  std::unique_ptr<http::Server> metrics_server;
  std::unique_ptr<http::Server> health_server;
};

Agent::Agent(const Options& options, AgentConfig config)
    : parts_(std::make_unique<Parts>(options, std::move(config))) {}

Agent::~Agent() { stop(); }

void Agent::start() {
  parts_->publisher->start();
  if (parts_->replayer) parts_->replayer->start();
}

void Agent::stop() {
  if (!parts_) return;
  parts_->publisher->stop();
  if (parts_->replayer) parts_->replayer->stop();
  if (parts_->reporter) parts_->reporter->stop();
  // civetweb notices a stop only every couple of seconds: pay it once.
  std::thread other([this] { parts_->metrics_server.reset(); });
  parts_->health_server.reset();
  other.join();
}

}  // namespace outflow::agent
