#include "agent/status/status_reporter.h"

#include "agent/status/status_entry.h"
#include "common/kube/errors.h"
#include "common/kube/resource.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <utility>

namespace outflow::agent {

namespace {

WritePolicy policy_for(std::chrono::milliseconds interval) {
  WritePolicy policy;
  policy.interval = interval;
  return policy;
}

}  // namespace

struct StatusReporter::State {
  State(kube::ApiClient& api_client, PipelineRef pipeline_ref, std::string pod_name,
        StateSource source, std::chrono::milliseconds interval, const Clock& steady_clock)
      : api(api_client),
        pipeline(std::move(pipeline_ref)),
        pod(std::move(pod_name)),
        manager(status_field_manager(pod)),
        read_state(std::move(source)),
        policy(policy_for(interval)),
        clock(steady_clock) {}

  kube::ApiClient& api;
  const PipelineRef pipeline;
  const std::string pod;
  const std::string manager;
  const StateSource read_state;
  const WritePolicy policy;
  const Clock& clock;

  std::mutex mutex;  // guards woken, error
  std::condition_variable_any wake_up;
  bool woken = false;
  std::string error;

  std::atomic<bool> reachable{false};
  std::atomic<std::uint64_t> attempts{0};
  std::mutex join_mutex;  // stop() from two threads must not both join

  // Reporter thread only.
  WriteHistory history;
  bool ever_written = false;
  // The failure last logged at warn or error; repeats of it go to debug so a
  // long outage does not log one line per retry. Empty while writes succeed.
  std::string failing_with;

  std::string where() const { return fmt::format("{}/{}", pipeline.namespace_name, pipeline.name); }

  void run(const std::stop_token& stop) {
    std::unique_lock lock(mutex);
    while (!stop.stop_requested()) {
      // Cleared before the state is read: a wake() from here on is about a
      // state this round may not have seen, so it must cut the next wait short.
      woken = false;
      lock.unlock();
      const std::optional<Clock::time_point> next = round();
      lock.lock();
      if (!next) continue;  // wrote: the state may have moved on meanwhile
      const auto delay = *next - clock.now();
      if (delay > Clock::duration::zero()) {
        wake_up.wait_for(lock, stop, delay, [this] { return woken; });
      }
    }
    lock.unlock();
    final_write();
  }

  // One look at the state and at most one write. Returns when to look again,
  // or nullopt right after a write.
  std::optional<Clock::time_point> round() {
    const std::optional<AgentState> current = read();
    if (!current) {
      history.failed(clock.now());
      return history.failed_at + retry_delay(history.failures, policy);
    }
    const auto decision = decide_write(history, *current, clock.now(), policy);
    if (!decision.write) return decision.next_check;
    const auto started = clock.now();
    if (write(*current, false)) {
      history.succeeded(*current, started);
    } else {
      history.failed(started);
    }
    return std::nullopt;
  }

  void final_write() {
    if (const auto current = read()) {
      if (write(*current, true)) {
        spdlog::info("status: wrote the final entry of pod {} in pipeline {}", pod, where());
      }
    }
  }

  std::optional<AgentState> read() {
    try {
      return read_state();
    } catch (const std::exception& e) {
      unreadable(e.what());
    } catch (...) {
      unreadable("unknown error");
    }
    return std::nullopt;
  }

  void unreadable(const std::string& why) {
    note_failure("reading the agent's state: " + why, true, "not written");
  }

  bool write(const AgentState& state, bool last) {
    attempts.fetch_add(1);
    try {
      const auto body =
          status_apply_body(pipeline, status_entry(pod, state, std::chrono::system_clock::now()));
      api.server_side_apply(kube::kinds::event_pipelines(), pipeline.namespace_name, pipeline.name,
                            body, manager, true, "status");
    } catch (const kube::ApiError& e) {
      failed(describe(e), needs_a_person(e.kind()), last);
      return false;
    } catch (const std::exception& e) {
      failed(e.what(), false, last);
      return false;
    } catch (...) {
      failed("unknown error", false, last);
      return false;
    }
    succeeded(state);
    return true;
  }

  static bool needs_a_person(kube::ErrorKind kind) {
    using kube::ErrorKind;
    return kind == ErrorKind::NotFound || kind == ErrorKind::Forbidden ||
           kind == ErrorKind::Unauthorized || kind == ErrorKind::Invalid;
  }

  // The API server's answer with what it means for this agent.
  std::string describe(const kube::ApiError& e) const {
    using kube::ErrorKind;
    switch (e.kind()) {
      case ErrorKind::NotFound:
        // A 404 naming no object: the resource type itself is not served.
        if (e.details().details_kind.empty()) {
          return fmt::format("the EventPipeline resource is not served (is the CRD installed?): {}",
                             e.what());
        }
        return fmt::format("pipeline {} does not exist (deleted?): {}", where(), e.what());
      case ErrorKind::Forbidden:
        return fmt::format(
            "not allowed to patch the status of pipeline {} (the agent's Role must grant patch on "
            "eventpipelines/status for it): {}",
            where(), e.what());
      case ErrorKind::Unauthorized:
        return fmt::format("the API server did not accept the agent's credentials: {}", e.what());
      default:
        return e.what();
    }
  }

  void failed(const std::string& why, bool serious, bool last) {
    reachable.store(false);
    if (last) failing_with.clear();  // a lost final entry is always worth a line
    note_failure(why, serious, last ? "the final entry is lost" : "retrying");
  }

  void note_failure(const std::string& why, bool serious, const char* then) {
    {
      std::lock_guard lock(mutex);
      error = why;
    }
    if (why != failing_with) {
      spdlog::log(serious ? spdlog::level::err : spdlog::level::warn,
                  "status: cannot write pod {}'s entry in pipeline {}, {}: {}", pod, where(), then,
                  why);
      failing_with = why;
    } else {
      spdlog::debug("status: cannot write pod {}'s entry in pipeline {}, {} (same error again)",
                    pod, where(), then);
    }
  }

  void succeeded(const AgentState& state) {
    // Error first: whoever sees reachable() turn true must also see no error.
    {
      std::lock_guard lock(mutex);
      error.clear();
    }
    reachable.store(true);
    if (!failing_with.empty()) {
      spdlog::info("status: writing pod {}'s entry in pipeline {} again", pod, where());
    } else if (!ever_written) {
      spdlog::info("status: pod {} reports into pipeline {} (looks every {} ms, writes on change)", pod, where(),
                   policy.interval.count());
    }
    failing_with.clear();
    ever_written = true;
    spdlog::debug("status: wrote pod {}'s entry in pipeline {}: breaker {}", pod, where(),
                  breaker::to_string(state.breaker));
  }
};

StatusReporter::StatusReporter(kube::ApiClient& api, PipelineRef pipeline, std::string pod,
                               StateSource read_state, std::chrono::milliseconds interval,
                               const Clock& clock) {
  if (pod.empty()) throw std::invalid_argument("StatusReporter: empty pod name");
  if (pipeline.name.empty() || pipeline.namespace_name.empty()) {
    throw std::invalid_argument("StatusReporter: the pipeline needs a namespace and a name");
  }
  if (!read_state) throw std::invalid_argument("StatusReporter: no state source");
  if (interval <= std::chrono::milliseconds::zero() || interval > std::chrono::hours(24)) {
    // Beyond a day, adding it to a steady_clock time point (nanoseconds)
    // is no longer far from overflowing, and no heartbeat is that slow.
    throw std::invalid_argument("StatusReporter: the interval must be positive and at most 24h");
  }
  state_ = std::make_unique<State>(api, std::move(pipeline), std::move(pod), std::move(read_state),
                                   interval, clock);
  thread_ = std::jthread([state = state_.get()](const std::stop_token& stop) { state->run(stop); });
}

StatusReporter::~StatusReporter() { stop(); }

void StatusReporter::wake() {
  {
    std::lock_guard lock(state_->mutex);
    state_->woken = true;
  }
  state_->wake_up.notify_all();
}

void StatusReporter::stop() {
  thread_.request_stop();
  std::lock_guard lock(state_->join_mutex);
  // Called from the reporter's own thread (through the state source) joining
  // would deadlock; the thread ends once that call returns.
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool StatusReporter::api_reachable() const { return state_->reachable.load(); }

std::string StatusReporter::last_error() const {
  std::lock_guard lock(state_->mutex);
  return state_->error;
}

std::uint64_t StatusReporter::write_attempts() const { return state_->attempts.load(); }

}  // namespace outflow::agent
