#pragma once

// The work queue and its workers: keys from the caches go into a rate-limited
// WorkQueue; worker threads hand each to the Reconciler and requeue it as its
// Result says (controller-runtime's Reconciler/Result loop).
//
// Priorities: what the caches report (someone changed something) is Normal;
// the full pass when workers start and every scheduled come-back
// (requeue_after) is Low, so a spec change is reconciled within a reconcile or
// two even while a full resync of every pipeline is queued. A failed key is
// retried at the priority it had.
//
// Workers run only between start_workers() and stop_workers(), i.e. while this
// process leads; the caches run on every replica so that a new leader starts
// with warm caches.

#include "common/kube/workqueue.h"
#include "operator/controller/metrics.h"
#include "operator/controller/reconciler.h"

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace outflow::op::controller {

class Controller {
 public:
  // Borrows both; `workers` threads reconcile in parallel (never one key twice).
  Controller(Reconciler& reconciler, Metrics& metrics, int workers);
  ~Controller();  // stop_workers()
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Queue `key` for reconciling (Normal priority); ignored while not leading.
  void enqueue(const std::string& key, kube::Priority priority);

  // Start reconciling `keys` (every pipeline known) and whatever is queued later.
  void start_workers(const std::vector<std::string>& keys);
  // Stop reconciling at once (lost lease, SIGTERM): no key is handed out any
  // more, and reconciles in flight abandon before their next write.
  void stop_workers();

 private:
  void work(const std::shared_ptr<kube::WorkQueue>& queue);

  Reconciler& reconciler_;
  Metrics& metrics_;
  const int workers_count_;
  std::mutex mu_;  // guards queue_ and workers_ across start/stop
  std::shared_ptr<kube::WorkQueue> queue_;
  std::vector<std::thread> workers_;
};

}  // namespace outflow::op::controller
