#include "common/kube/workqueue.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <utility>

namespace outflow::kube {

namespace {

// A getter parked on a delayed key re-checks at least this often. The condition
// variable measures real time, so this bounds the wait when the Clock is not the
// real one, and keeps a far-future due time from overflowing the wait deadline.
constexpr WorkQueue::duration kMaxWaitSlice = std::chrono::minutes(1);

WorkQueue::time_point due_after(WorkQueue::time_point now, WorkQueue::duration delay) {
  if (delay > WorkQueue::time_point::max() - now) return WorkQueue::time_point::max();
  return now + delay;
}

}  // namespace

WorkQueue::WorkQueue(const Clock& clock) : WorkQueue(clock, make_controller_rate_limiter(clock)) {}

WorkQueue::WorkQueue(const Clock& clock, std::unique_ptr<RateLimiter> limiter)
    : clock_(clock), limiter_(std::move(limiter)) {
  if (!limiter_) throw std::invalid_argument("WorkQueue: null rate limiter");
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  add_locked(key);
}

void WorkQueue::add_after(const std::string& key, duration delay) {
  if (delay <= duration::zero()) {
    add(key);
    return;
  }
  const auto due = due_after(clock_.now(), delay);
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  if (const auto it = waiting_index_.find(key); it != waiting_index_.end()) {
    if (it->second->first <= due) return;  // the earlier deadline wins
    waiting_.erase(it->second);
    waiting_index_.erase(it);
  }
  const bool new_earliest = waiting_.empty() || due < waiting_.begin()->first;
  waiting_index_.emplace(key, waiting_.emplace(due, key));
  // Every blocked getter waits either for ever (nothing was waiting when it
  // blocked) or until the old earliest due time. Wake them all to re-arm on the
  // new one; waking only one would leave no getter watching the deadline if
  // that one is then handed a key by an add().
  if (new_earliest) cv_.notify_all();
}

void WorkQueue::add_rate_limited(const std::string& key) { add_after(key, limiter_->when(key)); }

void WorkQueue::forget(const std::string& key) { limiter_->forget(key); }

int WorkQueue::num_requeues(const std::string& key) const { return limiter_->failures(key); }

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (shutting_down_) return std::nullopt;
    promote_due_locked(clock_.now());
    if (!queue_.empty()) return pop_locked();
    if (waiting_.empty()) {
      cv_.wait(lock);
    } else {
      const auto until_due = waiting_.begin()->first - clock_.now();
      cv_.wait_for(lock, std::min(until_due, kMaxWaitSlice));
    }
  }
}

std::optional<std::string> WorkQueue::try_get() {
  std::lock_guard lock(mu_);
  if (shutting_down_) return std::nullopt;
  promote_due_locked(clock_.now());
  if (queue_.empty()) return std::nullopt;
  return pop_locked();
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  // A key that is not processing may sit in queue_: re-queueing it would
  // duplicate it.
  if (processing_.erase(key) == 0) return;
  if (shutting_down_) {
    if (processing_.empty()) cv_.notify_all();  // shutdown_with_drain() waits for this
    return;
  }
  if (dirty_.count(key) != 0) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::shutdown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  queue_.clear();
  dirty_.clear();
  waiting_.clear();
  waiting_index_.clear();
  cv_.notify_all();
}

void WorkQueue::shutdown_with_drain() {
  shutdown();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return processing_.empty(); });
}

bool WorkQueue::shutting_down() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

std::size_t WorkQueue::process_due() {
  std::lock_guard lock(mu_);
  return promote_due_locked(clock_.now());
}

std::optional<WorkQueue::time_point> WorkQueue::next_due() const {
  std::lock_guard lock(mu_);
  if (waiting_.empty()) return std::nullopt;
  return waiting_.begin()->first;
}

std::size_t WorkQueue::len() {
  std::lock_guard lock(mu_);
  promote_due_locked(clock_.now());
  return queue_.size();
}

std::size_t WorkQueue::num_waiting() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

// Returns whether the key went into queue_ (it is new, not dirty, not processing).
bool WorkQueue::add_locked(const std::string& key) {
  if (shutting_down_) return false;
  if (!dirty_.insert(key).second) return false;    // already queued or already marked
  if (processing_.count(key) != 0) return false;  // done() will queue it
  queue_.push_back(key);
  cv_.notify_one();  // one new key, one getter
  return true;
}

std::size_t WorkQueue::promote_due_locked(time_point now) {
  std::size_t promoted = 0;
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    auto node = waiting_.extract(waiting_.begin());
    waiting_index_.erase(node.mapped());
    add_locked(node.mapped());
    ++promoted;
  }
  return promoted;
}

std::string WorkQueue::pop_locked() {
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  return key;
}

}  // namespace outflow::kube
