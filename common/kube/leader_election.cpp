#include "common/kube/leader_election.h"

#include "common/kube/lease_record.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <utility>

namespace outflow::kube {
namespace {

using nlohmann::json;

std::string string_or_empty(const json& spec, const char* key) {
  const auto it = spec.find(key);
  return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int int_or_zero(const json& spec, const char* key) {
  const auto it = spec.find(key);
  return it != spec.end() && it->is_number_integer() ? it->get<int>() : 0;
}

void validate(const LeaseConfig& config) {
  if (config.identity.empty()) throw std::invalid_argument("LeaderElector: empty identity");
  if (config.namespace_name.empty() || config.name.empty()) {
    throw std::invalid_argument("LeaderElector: the Lease needs a namespace and a name");
  }
  if (config.retry_period <= std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("LeaderElector: retry_period must be positive");
  }
  // client-go's rules: a leader must give up (renew_deadline) before others may
  // take over (lease_duration), and must get several tries before giving up.
  if (config.renew_deadline <= config.retry_period) {
    throw std::invalid_argument("LeaderElector: renew_deadline must exceed retry_period");
  }
  if (config.lease_duration <= config.renew_deadline) {
    throw std::invalid_argument("LeaderElector: lease_duration must exceed renew_deadline");
  }
  if (!(config.retry_jitter >= 0.0)) {
    throw std::invalid_argument("LeaderElector: retry_jitter must be >= 0");
  }
}

void run_callback(const std::function<void()>& callback, const char* name) {
  if (!callback) return;
  try {
    callback();
  } catch (const std::exception& e) {
    spdlog::error("leader election: {} threw: {}", name, e.what());
  } catch (...) {
    spdlog::error("leader election: {} threw a non-standard exception", name);
  }
}

}  // namespace

LeaseRecord lease_record_from_json(const json& lease) {
  LeaseRecord record;
  if (!lease.is_object()) return record;
  const auto spec = lease.find("spec");
  if (spec == lease.end() || !spec->is_object()) return record;
  record.holder = string_or_empty(*spec, "holderIdentity");
  record.lease_duration_seconds = int_or_zero(*spec, "leaseDurationSeconds");
  record.acquire_time = string_or_empty(*spec, "acquireTime");
  record.renew_time = string_or_empty(*spec, "renewTime");
  record.transitions = int_or_zero(*spec, "leaseTransitions");
  return record;
}

LeaseAction decide(const std::optional<LeaseRecord>& current, const std::optional<Observation>& last,
                   const std::string& identity, Clock::time_point now) {
  if (!current) return LeaseAction::Create;
  if (current->holder == identity) return LeaseAction::Renew;
  if (current->holder.empty()) return LeaseAction::Acquire;
  // Expiry is counted on our own monotonic clock from when we first saw this
  // exact record; any change (a renewal, a new holder) restarts the count. A
  // record seen for the first time was, as far as we know, renewed just now.
  const Clock::time_point seen_since =
      last && last->record == *current ? last->observed_at : now;
  const auto valid_for = std::chrono::seconds(current->lease_duration_seconds);
  return now >= seen_since + valid_for ? LeaseAction::Acquire : LeaseAction::Wait;
}

Observation observe(const LeaseRecord& current, const std::optional<Observation>& last,
                    Clock::time_point now) {
  if (last && last->record == current) return *last;
  return {current, now};
}

struct LeaderElector::State {
  State(ApiClient& api_client, LeaseConfig lease_config, LeaderCallbacks leader_callbacks,
        const Clock& steady_clock)
      : api(api_client),
        config(std::move(lease_config)),
        callbacks(std::move(leader_callbacks)),
        clock(steady_clock),
        rng(std::random_device{}()) {}

  ApiClient& api;
  const LeaseConfig config;
  const LeaderCallbacks callbacks;
  const Clock& clock;

  std::mutex mutex;  // guards started, stopping
  std::condition_variable wake;
  bool started = false;
  bool stopping = false;
  std::mutex join_mutex;  // guards `thread`: stop() from two threads must not both join
  std::thread thread;

  // Read by is_leader() from any thread.
  std::atomic<bool> leading{false};
  std::atomic<Clock::duration::rep> renewed_at{0};  // start of the last successful write

  // Elector thread only.
  std::optional<Observation> last;
  std::optional<json> last_object;  // the Lease as last read or written, for release()
  std::string reported_leader;
  std::minstd_rand rng;
  bool failing = false;  // logs the first failure of a streak at warn, the rest at debug

  Clock::time_point last_renewal() const {
    return Clock::time_point(Clock::duration(renewed_at.load()));
  }

  bool renew_deadline_passed(Clock::time_point now) const {
    return now - last_renewal() >= config.renew_deadline;
  }

  void run() {
    spdlog::info("leader election: {} campaigning for lease {}/{}", config.identity,
                 config.namespace_name, config.name);
    std::unique_lock lock(mutex);
    while (!stopping) {
      lock.unlock();
      round();
      const auto delay = next_delay();
      lock.lock();
      wake.wait_for(lock, delay, [this] { return stopping; });
    }
    lock.unlock();
    if (leading) step_down("stopping", false);
    release();
  }

  // One read, decide, at most one write.
  void round() {
    const Clock::time_point started_at = clock.now();
    if (leading && renew_deadline_passed(started_at)) {
      step_down("could not renew within the renew deadline");
    }

    std::optional<json> object;
    try {
      object = api.get_if_exists(kinds::leases(), config.namespace_name, config.name);
    } catch (const std::exception& e) {
      failed("reading the lease", e.what());
      return;
    }
    // Expiry counts from after the read, never from before it, so we cannot
    // take a lease a request's latency early.
    const Clock::time_point read_at = clock.now();
    std::optional<LeaseRecord> current;
    if (object) current = lease_record_from_json(*object);
    const LeaseAction action = decide(current, last, config.identity, read_at);
    if (current) {
      last = observe(*current, last, read_at);
      last_object = object;
      report_leader(current->holder);
    }
    if (action == LeaseAction::Wait) {
      if (leading) step_down("the lease is now held by " + current->holder);
      recovered();
      return;
    }

    json written;
    try {
      const json desired = lease_to_write(object, action, config, std::chrono::system_clock::now());
      written = action == LeaseAction::Create
                    ? api.create(kinds::leases(), config.namespace_name, desired, write_options())
                    : api.replace(kinds::leases(), config.namespace_name, desired, write_options());
    } catch (const ApiError& e) {
      // Losing a race to another candidate is the election working, not a fault.
      if (!leading && (e.kind() == ErrorKind::Conflict || e.kind() == ErrorKind::AlreadyExists)) {
        spdlog::debug("leader election: {} lost a race for lease {}/{}: {}", config.identity,
                      config.namespace_name, config.name, e.what());
        return;
      }
      failed(action == LeaseAction::Renew ? "renewing the lease" : "acquiring the lease", e.what());
      return;
    } catch (const std::exception& e) {
      failed(action == LeaseAction::Renew ? "renewing the lease" : "acquiring the lease", e.what());
      return;
    }

    last = Observation{lease_record_from_json(written), clock.now()};
    last_object = std::move(written);
    // The round's start, not now: others count expiry from when they see the
    // write, which is after we sent it, so this errs on the safe side.
    renewed_at.store(started_at.time_since_epoch().count());
    recovered();
    if (!leading) {
      leading.store(true);
      spdlog::info("leader election: {} became the leader of lease {}/{} ({})", config.identity,
                   config.namespace_name, config.name,
                   action == LeaseAction::Create ? "created it" : "acquired it");
      report_leader(config.identity);
      run_callback(callbacks.on_started_leading, "on_started_leading");
    }
  }

  Clock::duration next_delay() {
    const Clock::duration retry = config.retry_period;
    if (leading) {
      // Wake up at the renew deadline at the latest, to step down on time.
      const auto until_deadline = last_renewal() + config.renew_deadline - clock.now();
      return std::clamp(until_deadline, Clock::duration::zero(), retry);
    }
    if (config.retry_jitter <= 0.0) return retry;
    std::uniform_real_distribution<double> factor(1.0, 1.0 + config.retry_jitter);
    return std::chrono::duration_cast<Clock::duration>(retry * factor(rng));
  }

  WriteOptions write_options() const {
    WriteOptions options;
    options.field_manager = "outflow-leader-election";
    return options;
  }

  // `lost`: taken from us or not renewed in time (warn), as opposed to a clean stop (info).
  void step_down(const std::string& why, bool lost = true) {
    leading.store(false);
    spdlog::log(lost ? spdlog::level::warn : spdlog::level::info,
                "leader election: {} stopped leading lease {}/{}: {}", config.identity,
                config.namespace_name, config.name, why);
    run_callback(callbacks.on_stopped_leading, "on_stopped_leading");
  }

  void failed(const char* what, const std::string& error) {
    if (!failing) {
      spdlog::warn("leader election: {} failed {} {}/{}: {}", config.identity, what,
                   config.namespace_name, config.name, error);
    } else {
      spdlog::debug("leader election: {} failed {} {}/{} again: {}", config.identity, what,
                    config.namespace_name, config.name, error);
    }
    failing = true;
    if (leading && renew_deadline_passed(clock.now())) {
      step_down("could not renew within the renew deadline");
    }
  }

  void recovered() {
    if (failing) {
      spdlog::info("leader election: {} reaches lease {}/{} again", config.identity,
                   config.namespace_name, config.name);
    }
    failing = false;
  }

  void report_leader(const std::string& holder) {
    if (holder.empty()) {
      // Released: whoever takes it next, even the same holder again, is news.
      reported_leader.clear();
      return;
    }
    if (holder == reported_leader) return;
    reported_leader = holder;
    if (holder != config.identity) {
      spdlog::info("leader election: {} sees {} leading lease {}/{}", config.identity, holder,
                   config.namespace_name, config.name);
    }
    if (callbacks.on_new_leader) {
      run_callback([&] { callbacks.on_new_leader(holder); }, "on_new_leader");
    }
  }

  // Hands the lease back if, as far as we know, it is still ours. The replace
  // carries the resourceVersion we last saw, so if anyone wrote since (a
  // successor already), it fails with Conflict and changes nothing.
  void release() {
    if (!last_object || !last || last->record.holder != config.identity) return;
    try {
      api.replace(kinds::leases(), config.namespace_name,
                  released_lease(*last_object, std::chrono::system_clock::now()), write_options());
      spdlog::info("leader election: {} released lease {}/{}", config.identity,
                   config.namespace_name, config.name);
    } catch (const ApiError& e) {
      if (e.kind() == ErrorKind::Conflict || e.kind() == ErrorKind::NotFound) {
        spdlog::info("leader election: {} left lease {}/{} alone: it changed since we held it",
                     config.identity, config.namespace_name, config.name);
        return;
      }
      spdlog::warn("leader election: {} could not release lease {}/{} (it will expire): {}",
                   config.identity, config.namespace_name, config.name, e.what());
    } catch (const std::exception& e) {
      spdlog::warn("leader election: {} could not release lease {}/{} (it will expire): {}",
                   config.identity, config.namespace_name, config.name, e.what());
    }
  }
};

LeaderElector::LeaderElector(ApiClient& api, LeaseConfig config, LeaderCallbacks callbacks,
                             const Clock& clock) {
  validate(config);
  state_ = std::make_unique<State>(api, std::move(config), std::move(callbacks), clock);
}

LeaderElector::~LeaderElector() { stop(); }

void LeaderElector::start() {
  std::lock_guard join_lock(state_->join_mutex);  // orders the thread's creation before stop()
  std::lock_guard lock(state_->mutex);
  if (state_->started) throw std::logic_error("LeaderElector::start called twice");
  state_->started = true;
  State* state = state_.get();
  state_->thread = std::thread([state] { state->run(); });
}

void LeaderElector::stop() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  std::lock_guard join_lock(state_->join_mutex);
  // From a callback (on the elector thread) joining would deadlock; the thread
  // sees `stopping` as soon as the callback returns.
  if (state_->thread.joinable() && state_->thread.get_id() != std::this_thread::get_id()) {
    state_->thread.join();
  }
}

bool LeaderElector::is_leader() const {
  return state_->leading.load() && !state_->renew_deadline_passed(state_->clock.now());
}

WriteFence LeaderElector::write_fence() const {
  return [this] {
    if (!is_leader()) {
      throw LeaseNotHeld("not writing: " + state_->config.identity + " does not hold lease " +
                         state_->config.namespace_name + "/" + state_->config.name);
    }
  };
}

}  // namespace outflow::kube
