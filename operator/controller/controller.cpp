#include "operator/controller/controller.h"

#include "common/clock.h"

#include <spdlog/spdlog.h>

namespace outflow::op::controller {

Controller::Controller(Reconciler& reconciler, Metrics& metrics, int workers)
    : reconciler_(reconciler), metrics_(metrics), workers_count_(workers) {}

Controller::~Controller() { stop_workers(); }

void Controller::start_workers(const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  if (queue_) return;
  reconciler_.resume();
  queue_ = std::make_shared<kube::WorkQueue>(SteadyClock::instance());
  // A full pass, not a change: behind any change someone makes meanwhile.
  for (const auto& key : keys) queue_->add(key, kube::Priority::Low);
  for (int i = 0; i < workers_count_; ++i) workers_.emplace_back([this, queue = queue_] { work(queue); });
  metrics_.leader(true);
  spdlog::info("reconciling with {} workers", workers_count_);
}

void Controller::stop_workers() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    if (!queue_) return;
    reconciler_.cancel();
    queue_->shutdown();
    queue_.reset();
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  metrics_.leader(false);
  spdlog::info("stopped reconciling");
}

void Controller::work(const std::shared_ptr<kube::WorkQueue>& queue) {
  while (auto item = queue->get_item()) {
    const auto& key = item->key;
    metrics_.queue_depth(queue->len(kube::Priority::Normal), queue->len(kube::Priority::Low));
    const auto result = reconciler_.reconcile(key);
    if (result.error) {
      // A failed change stays a change: its retry must not fall behind resyncs.
      queue->add_rate_limited(key, item->priority);
    } else {
      queue->forget(key);
      // Coming back later (next topic check, heartbeat, resync) is routine.
      if (result.requeue_after > std::chrono::milliseconds(0)) {
        queue->add_after(key, result.requeue_after, kube::Priority::Low);
      }
    }
    queue->done(key);
  }
}

void Controller::enqueue(const std::string& key, kube::Priority priority) {
  std::shared_ptr<kube::WorkQueue> queue;
  {
    std::lock_guard lock(mu_);
    queue = queue_;
  }
  if (queue) queue->add(key, priority);
}

}  // namespace outflow::op::controller
