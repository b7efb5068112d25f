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

void WorkQueue::add(const std::string& key, Priority priority) {
  std::lock_guard lock(mu_);
  add_locked(key, priority);
}

void WorkQueue::add_after(const std::string& key, duration delay, Priority priority) {
  if (delay <= duration::zero()) {
    add(key, priority);
    return;
  }
  const auto due = due_after(clock_.now(), delay);
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  if (const auto it = waiting_index_.find(key); it != waiting_index_.end()) {
    auto& waiting = it->second;
    priority = std::max(priority, waiting->second.priority);
    if (waiting->first <= due) {  // the earlier deadline wins
      waiting->second.priority = priority;
      return;
    }
    waiting_.erase(waiting);
    waiting_index_.erase(it);
  }
  const bool new_earliest = waiting_.empty() || due < waiting_.begin()->first;
  waiting_index_.emplace(key, waiting_.emplace(due, Item{key, priority}));
  // Every blocked getter waits either for ever (nothing was waiting when it
  // blocked) or until the old earliest due time. Wake them all to re-arm on the
  // new one; waking only one would leave no getter watching the deadline if
  // that one is then handed a key by an add().
  if (new_earliest) cv_.notify_all();
}

void WorkQueue::add_rate_limited(const std::string& key, Priority priority) {
  add_after(key, limiter_->when(key), priority);
}

void WorkQueue::forget(const std::string& key) { limiter_->forget(key); }

int WorkQueue::num_requeues(const std::string& key) const { return limiter_->failures(key); }

std::optional<std::string> WorkQueue::get() {
  auto item = get_item();
  if (!item) return std::nullopt;
  return std::move(item->key);
}

std::optional<std::string> WorkQueue::try_get() {
  auto item = try_get_item();
  if (!item) return std::nullopt;
  return std::move(item->key);
}

std::optional<WorkQueue::Item> WorkQueue::get_item() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (shutting_down_) return std::nullopt;
    promote_due_locked(clock_.now());
    if (!ready_.empty()) return pop_locked();
    if (waiting_.empty()) {
      cv_.wait(lock);
    } else {
      const auto until_due = waiting_.begin()->first - clock_.now();
      cv_.wait_for(lock, std::min(until_due, kMaxWaitSlice));
    }
  }
}

std::optional<WorkQueue::Item> WorkQueue::try_get_item() {
  std::lock_guard lock(mu_);
  if (shutting_down_) return std::nullopt;
  promote_due_locked(clock_.now());
  if (ready_.empty()) return std::nullopt;
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
  if (const auto dirty = dirty_.find(key); dirty != dirty_.end()) {
    push_ready_locked(key, dirty->second);
    cv_.notify_one();
  }
}

void WorkQueue::shutdown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  ready_.clear();
  ready_index_.clear();
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
  return ready_.size();
}

std::size_t WorkQueue::len(Priority priority) {
  std::lock_guard lock(mu_);
  promote_due_locked(clock_.now());
  return static_cast<std::size_t>(std::count_if(ready_.begin(), ready_.end(), [priority](const auto& entry) {
    return entry.first.first == priority;
  }));
}

std::size_t WorkQueue::num_waiting() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

// Returns whether the key went into ready_ (it is new, not dirty, not processing).
bool WorkQueue::add_locked(const std::string& key, Priority priority) {
  if (shutting_down_) return false;
  const auto [dirty, inserted] = dirty_.try_emplace(key, priority);
  if (!inserted) {  // already queued or already marked
    if (priority <= dirty->second) return false;
    dirty->second = priority;
    // Queued: move it up (behind the keys already at that priority).
    // Processing: done() queues it at the new priority.
    if (const auto ready = ready_index_.find(key); ready != ready_index_.end()) {
      ready_.erase(ready->second);
      ready_index_.erase(ready);
      push_ready_locked(key, priority);
    }
    return false;
  }
  if (processing_.count(key) != 0) return false;  // done() will queue it
  push_ready_locked(key, priority);
  cv_.notify_one();  // one new key, one getter
  return true;
}

void WorkQueue::push_ready_locked(const std::string& key, Priority priority) {
  ready_index_[key] = ready_.emplace(std::pair{priority, next_sequence_++}, key).first;
}

std::size_t WorkQueue::promote_due_locked(time_point now) {
  std::size_t promoted = 0;
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    auto node = waiting_.extract(waiting_.begin());
    waiting_index_.erase(node.mapped().key);
    add_locked(node.mapped().key, node.mapped().priority);
    ++promoted;
  }
  return promoted;
}

WorkQueue::Item WorkQueue::pop_locked() {
  auto node = ready_.extract(ready_.begin());
  Item item{std::move(node.mapped()), node.key().first};
  ready_index_.erase(item.key);
  dirty_.erase(item.key);
  processing_.insert(item.key);
  return item;
}

}  // namespace outflow::kube
