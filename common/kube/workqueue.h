#pragma once

// The queue between the informers (which say "this object changed") and the
// reconcile workers (which bring the world in line with it). Modelled on
// client-go's rate-limited work queue; the guarantees controllers rely on:
//
//  - Keys ("namespace/name"), not objects: a worker reads the latest state from
//    the cache, so ten events for one object while it waits cost one reconcile.
//    A key already queued is not queued again.
//  - One worker per key at a time: get() hands a key out and marks it
//    processing until done(key). An add() meanwhile marks it dirty, and done()
//    queues it again, so the update is not lost and two workers never reconcile
//    the same object concurrently (which would race on its status).
//  - Delays: add_after(key, d) for "requeue after d" (periodic drift checks);
//    add_rate_limited(key) for retries with the RateLimiter's back-off;
//    forget(key) on success resets that back-off.
//  - Two priorities, as controller-runtime's priority queue has: keys added
//    with Priority::Low (the initial list when a leader starts, periodic
//    resyncs) are handed out only when no Normal key (a change someone made)
//    is ready, so one spec change never waits behind a thousand resyncs.
//    FIFO within a priority. A queued key added again at a higher priority
//    moves up; at a lower one it keeps its place.
//
// A worker loop (controller-runtime's Result{requeue, requeueAfter} mapped on):
//
//   while (auto key = queue.get()) {
//     outcome = reconcile(*key);
//     if (outcome failed or asked to requeue) queue.add_rate_limited(*key);
//     else { queue.forget(*key); if (requeue_after > 0) queue.add_after(*key, requeue_after); }
//     queue.done(*key);
//   }
//
// Time comes from the injected Clock. There is no timer thread: keys whose delay
// has passed are moved to the ready queue by whichever call looks next (get,
// try_get, process_due, len). A getter blocked on a delayed key waits on the
// condition variable until that key's due time. With a ManualClock that wait
// cannot see the clock move, so tests advance the clock and then call
// process_due() (which wakes blocked getters) or use try_get(): deterministic,
// no sleeping.
//
// Thread-safe. The Clock must outlive the queue; worker threads must have left
// get() (shutdown(), then join) before the queue is destroyed.

#include "common/clock.h"
#include "common/kube/rate_limiter.h"

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <unordered_set>

namespace outflow::kube {

// Low: the initial list and periodic resyncs. Normal: changes (watch events,
// retries of a change that failed).
enum class Priority { Low = 0, Normal = 1 };

class WorkQueue {
 public:
  using duration = Clock::duration;
  using time_point = Clock::time_point;

  struct Item {
    std::string key;
    Priority priority = Priority::Normal;  // the highest it was added with
  };

  // With make_controller_rate_limiter(clock): back-off 5 ms..1000 s, 10 qps burst 100.
  explicit WorkQueue(const Clock& clock);
  // Throws std::invalid_argument for a null limiter.
  WorkQueue(const Clock& clock, std::unique_ptr<RateLimiter> limiter);
  // The queue keeps a reference to the clock: a temporary one would dangle.
  explicit WorkQueue(const Clock&& clock) = delete;
  WorkQueue(const Clock&& clock, std::unique_ptr<RateLimiter> limiter) = delete;

  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` unless it is already queued (then it only moves up when
  // `priority` is higher); if it is being processed, queues it again when
  // done(key) is called. Ignored after shutdown.
  void add(const std::string& key, Priority priority = Priority::Normal);

  // add(key, priority) once `delay` has passed (at once when delay <= 0). A
  // key already waiting keeps the earlier of its two due times and the higher
  // of its two priorities. Independent of the ready queue: a key both waiting
  // and queued is handed out now and again when due, so a periodic requeue
  // survives an event-driven reconcile in between.
  void add_after(const std::string& key, duration delay, Priority priority = Priority::Normal);

  // add_after(key, the rate limiter's next delay for key, priority).
  void add_rate_limited(const std::string& key, Priority priority = Priority::Normal);

  // The key succeeded: reset its back-off. Does not remove it from the queue.
  void forget(const std::string& key);

  // How often the key was rate-limited since the last forget().
  int num_requeues(const std::string& key) const;

  // Blocks until a key is ready, then hands it out (the caller owns it until
  // done(key)). Returns nullopt once the queue is shut down.
  std::optional<std::string> get();

  // get() without blocking: nullopt when nothing is ready (or after shutdown).
  std::optional<std::string> try_get();

  // get() and try_get() with the priority the key was queued at, so that a
  // worker can requeue a failed key at the priority it came with.
  std::optional<Item> get_item();
  std::optional<Item> try_get_item();

  // The worker has finished with `key` (obtained from get/try_get). Ignored for
  // a key that is not being processed.
  void done(const std::string& key);

  // Stop: get() returns nullopt from now on (blocked getters wake), queued and
  // waiting keys are dropped, add*() is ignored. Unlike client-go, queued keys
  // are not handed out any more: on SIGTERM or a lost lease the operator must
  // stop reconciling at once, and the next leader resyncs everything anyway.
  void shutdown();

  // shutdown(), then block until every key handed out has been done().
  void shutdown_with_drain();

  bool shutting_down() const;

  // Moves every waiting key whose due time has come into the ready queue and
  // wakes blocked getters. Returns how many keys came due (a key that was
  // already queued or is processing counts, though add() de-duplicates it).
  std::size_t process_due();

  // The earliest due time of the waiting keys, if any.
  std::optional<time_point> next_due() const;

  // Keys ready to be handed out (the queue-depth metric), counting waiting keys
  // that are due: it calls process_due() first, hence not const.
  std::size_t len();
  // The same, counting only the keys ready at `priority`.
  std::size_t len(Priority priority);

  // Keys waiting for their due time (not yet in len()).
  std::size_t num_waiting() const;

 private:
  using Waiting = std::multimap<time_point, Item>;
  // Ready keys: higher priority first, then in the order they became ready.
  struct ReadyOrder {
    bool operator()(const std::pair<Priority, std::uint64_t>& a, const std::pair<Priority, std::uint64_t>& b) const {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    }
  };
  using Ready = std::map<std::pair<Priority, std::uint64_t>, std::string, ReadyOrder>;

  bool add_locked(const std::string& key, Priority priority);
  void push_ready_locked(const std::string& key, Priority priority);
  std::size_t promote_due_locked(time_point now);
  Item pop_locked();

  const Clock& clock_;
  const std::unique_ptr<RateLimiter> limiter_;

  mutable std::mutex mu_;
  // Getters wait here for a key; shutdown_with_drain() waits here for done().
  std::condition_variable cv_;
  bool shutting_down_ = false;
  Ready ready_;
  std::unordered_map<std::string, Ready::iterator> ready_index_;  // one entry per key
  std::uint64_t next_sequence_ = 0;
  // Needs processing, at this priority: queued, or re-queue on done().
  std::unordered_map<std::string, Priority> dirty_;
  std::unordered_set<std::string> processing_;  // handed out, not done yet
  Waiting waiting_;                             // by due time; FIFO among equal times
  std::unordered_map<std::string, Waiting::iterator> waiting_index_;  // one entry per key
};

}  // namespace outflow::kube
