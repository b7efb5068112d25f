// outflow-operator: reconciles EventPipelines into Kafka topics, agent
// workloads, alert rules and status.

#include "common/http/probe_server.h"
#include "common/kube/api_client.h"
#include "common/kube/cluster_endpoint.h"
#include "common/kube/event_recorder.h"
#include "common/kube/leader_election.h"
#include "common/kube/rest_client.h"
#include "common/log/logging.h"
#include "common/openssl_init.h"
#include "operator/check/command.h"
#include "operator/controller/admin_clients.h"
#include "operator/controller/caches.h"
#include "operator/controller/controller.h"
#include "operator/controller/metrics.h"
#include "operator/controller/reconciler.h"
#include "operator/options.h"
#include "outflow/version.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <malloc.h>
#include <pthread.h>
#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>
#include <unistd.h>

namespace {

using namespace outflow;

// Pod name (downward API) or host name, plus a random suffix: two processes
// on one host, or a restarted pod, must never share a lease identity.
std::string leader_identity() {
  std::string base;
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') {
    base = pod;
  } else {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    base = host;
  }
  std::random_device random;
  return fmt::format("{}_{:08x}", base, random());
}

int run(const op::Options& options) {
  // Signals are taken by sigwait() below, never by a handler on a random
  // thread: block them before any thread exists, so every thread inherits it.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const auto endpoint =
      options.kubeconfig.empty() ? kube::load_in_cluster() : kube::load_kubeconfig(options.kubeconfig);
  spdlog::info("API server {}", endpoint.server);
  kube::RestClient rest(endpoint);
  const std::string identity = leader_identity();
  std::atomic<bool> shutting_down{false};  // set by main() before it stops the elector
  const op::controller::Caches* caches_ptr = nullptr;

  // The elector exists before anything that writes, so that every write can
  // be fenced by it; it starts campaigning only once the caches are warm.
  std::unique_ptr<kube::LeaderElector> elector;
  // The elector's own client, with a timeout well inside the renew deadline:
  // one hung request on the shared 30 s client would otherwise keep a leader
  // that lost contact from stepping down in time.
  kube::RestClient lease_rest(endpoint, std::chrono::duration_cast<std::chrono::seconds>(
                                            std::max(options.renew_deadline / 2, std::chrono::milliseconds(1000))));
  kube::ApiClient lease_api(lease_rest);
  std::unique_ptr<op::controller::Controller> controller;
  op::controller::Reconciler* reconciler_ptr = nullptr;
  // Set on the elector thread when the lease is lost; main() then exits 1.
  std::atomic<bool> lease_lost{false};
  const pthread_t main_thread = pthread_self();
  if (options.leader_elect) {
    kube::LeaseConfig lease{options.leader_election_namespace, options.leader_election_id, identity,
                            options.lease_duration, options.renew_deadline, options.retry_period};
    elector = std::make_unique<kube::LeaderElector>(
        lease_api, lease,
        kube::LeaderCallbacks{
            [&] {
              if (lease_lost) return;  // on its way out: never lead again in this process
              spdlog::info("became leader ({})", identity);
              controller->start_workers(caches_ptr->pipeline_keys());
            },
            [&] {
              if (shutting_down) {
                spdlog::info("not leading any more ({}); reconciling stops", identity);
                controller->stop_workers();
                return;
              }
              // Lost, not handed back: as controller-runtime does, stop at
              // once and exit, so the pod restarts as a standby with fresh
              // state. Writes are already refused by the fence; cancelling
              // makes reconciles in flight give up at their next step.
              spdlog::error("lost the leader lease ({}); stopping all work and exiting", identity);
              lease_lost = true;
              if (reconciler_ptr != nullptr) reconciler_ptr->cancel();
              elector->stop();  // from the callback: stop campaigning once it returns
              pthread_kill(main_thread, SIGTERM);
            },
            [](const std::string& holder) { spdlog::info("leader is {}", holder); }});
  }
  // Every write of the operator (status, finalizers, workloads, Events) goes
  // out only while this process holds the lease by its own clock.
  op::controller::Metrics metrics;
  kube::ApiClient api(rest, elector ? elector->write_fence() : kube::WriteFence{},
                      [&metrics](std::string_view verb, const kube::ResourceKind& kind) {
                        metrics.api_request(verb, kind.plural);
                      });
  kube::EventRecorder events(api, op::controller::kFieldManager, identity);
  op::controller::AdminClients admins;
  op::controller::ReconcilerConfig config;
  config.defaults.agent_image =
      options.agent_image.empty() ? std::string("outflow-agent:") + kVersion : options.agent_image;
  config.defaults.allowed_agent_images = options.allowed_agent_images;
  config.resync_period = options.resync_period;
  config.topic_deletion_timeout =
      std::chrono::duration_cast<std::chrono::seconds>(options.topic_deletion_timeout);
  config.topic_checks.resync = options.resync_period;
  // Kafka writes too: checked before each Admin call that changes the cluster.
  if (elector) config.write_fence = elector->write_fence();

  op::controller::Caches caches(rest, options.namespaces,
                                [&controller](const std::string& key, kube::Priority priority) {
                                  if (controller) controller->enqueue(key, priority);
                                });
  caches_ptr = &caches;
  op::controller::Reconciler reconciler(api, caches, events, admins, metrics, config);
  reconciler_ptr = &reconciler;
  controller = std::make_unique<op::controller::Controller>(reconciler, metrics, options.workers);

  auto metrics_server =
      std::make_unique<http::Server>(options.metrics_addr, http::Endpoints{.probes = {}, .metrics = metrics.registry()});
  auto health_server = std::make_unique<http::Server>(
      options.health_addr,
      http::Endpoints{.probes = {{"/healthz", [] { return std::optional<std::string>(); }},
                  {"/readyz",
                   [&caches]() -> std::optional<std::string> {
                     if (caches.wait_for_sync(std::chrono::milliseconds(0))) return std::nullopt;
                     return "informer caches have not synced yet";
                   }}},
       .metrics = nullptr});
  // civetweb's listener notices a stop only every couple of seconds: stop
  // both servers at once so shutdown pays that once.
  const auto stop_servers = [&] {
    std::thread other([&] { metrics_server.reset(); });
    health_server.reset();
    other.join();
  };
  spdlog::info("metrics on {}, probes on {}", options.metrics_addr, options.health_addr);

  caches.start();
  while (!caches.wait_for_sync(std::chrono::seconds(5))) {
    spdlog::info("waiting for the informer caches to sync");
    timespec poll{0, 0};
    if (sigtimedwait(&signals, nullptr, &poll) > 0) return 0;
  }
  spdlog::info("caches synced");

  // The caches ran (and run) while not leading: a promoted standby starts
  // from warm caches and reconciles at once.
  if (elector) {
    elector->start();
  } else {
    controller->start_workers(caches.pipeline_keys());
  }

  int signal = 0;
  sigwait(&signals, &signal);
  if (lease_lost) {
    spdlog::info("shutting down after losing the lease");
  } else {
    spdlog::info("received {}, shutting down", strsignal(signal));
  }
  shutting_down = true;
  if (elector) elector->stop();  // stops the workers, then releases the lease if still ours
  controller->stop_workers();
  caches.stop();
  stop_servers();
  spdlog::info("stopped");
  return lease_lost ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread: glibc gives each thread that contends its own malloc
  // arena (up to 8 per core), and the informers' first lists, parsed on
  // nine threads at once, left that much freed memory held in each. At
  // 1,000 pipelines a restart peaked at 170-184 MiB with the default and
  // 125 MiB with two arenas (hack/bench.sh operator), at no measurable cost
  // in time: the operator waits on round trips, not on malloc.
  mallopt(M_ARENA_MAX, 2);
  outflow::init_openssl();
  CLI::App app{"outflow-operator: reconciles EventPipeline resources into Kafka topics, "
               "agent Deployments, alert rules and status"};
  app.set_version_flag("--version", std::string("outflow-operator ") + outflow::kVersion);
  outflow::op::Options options;
  outflow::op::add_flags(app, options);
  outflow::op::check::CheckOptions check_options;
  auto* check = app.add_subcommand("check",
                                   "Check a running operator release from inside its cluster: every pod Ready and "
                                   "answering on its ports, one leader holding a fresh Lease (the chart's helm test); "
                                   "exit 0 ready, 1 bad options, 2 a check failed");
  outflow::op::check::add_check_flags(*check, check_options);
  CLI11_PARSE(app, argc, argv);
  if (check->parsed()) return outflow::op::check::run_check(check_options, std::cout);
  if (const auto problem = outflow::op::validate(options)) {
    std::fprintf(stderr, "outflow-operator: %s\n", problem->c_str());
    return 2;
  }

  outflow::log::configure("operator", *outflow::log::parse_format(options.log_format),
                          *outflow::log::parse_level(options.log_level));
  spdlog::info("outflow-operator {} starting", outflow::kVersion);
  try {
    return run(options);
  } catch (const std::exception& e) {
    // Configuration the operator cannot start with (kubeconfig, listen
    // address): one line that says what, then a non-zero exit.
    spdlog::critical("{}", e.what());
    return 1;
  }
}
