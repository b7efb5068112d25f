#pragma once

// Writes this agent pod's entry in its EventPipeline's status.agents, on a
// thread of its own: at once on a breaker transition (the publisher calls
// wake()), other material changes at most once per interval, and nothing while
// nothing a person would act on changes (status_entry.h has the schedule,
// material_change.h what counts; liveness is the pod's Ready condition).
// Each write is a server-side apply of the status subresource as
// manager "outflow-agent/<pod>", forced: status.agents is a map list keyed by
// pod, so this manager owns exactly its own entry and the operator's fields
// and the other pods' entries stay as they are.
//
// Nothing here throws once constructed. A failed write (API server down, the
// pipeline deleted, RBAC refusing) is logged, remembered for last_error() and
// api_reachable(), and retried with a back-off from 200 ms up to the interval.

#include "agent/config/agent_config.h"
#include "agent/status/agent_state.h"
#include "common/clock.h"
#include "common/kube/api_client.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace outflow::agent {

class StatusReporter {
 public:
  // The agent's current state. Called on the reporter's thread while the
  // publisher runs on others, so it must be thread-safe; it should be quick
  // (a snapshot, no I/O). An exception from it is logged and retried like a
  // failed write.
  using StateSource = std::function<AgentState()>;

  // Starts the thread; the first write is attempted at once. Borrows `api` and
  // `clock`, which must outlive the reporter. Each request is bounded only by
  // the RestClient's timeout, and stop() waits for one: give the reporter a
  // client whose timeout fits into the pod's termination grace period.
  // `clock` drives the schedule; waits happen in real time for what it says
  // remains, so a ManualClock that never moves means no further writes.
  // Throws std::invalid_argument for an empty pod, pipeline name or namespace,
  // a missing `read_state`, or an interval <= 0.
  StatusReporter(kube::ApiClient& api, PipelineRef pipeline, std::string pod,
                 StateSource read_state,
                 std::chrono::milliseconds interval = std::chrono::seconds(5),
                 const Clock& clock = SteadyClock::instance());
  ~StatusReporter();  // stop()
  StatusReporter(const StatusReporter&) = delete;
  StatusReporter& operator=(const StatusReporter&) = delete;

  // Look at the state now: the publisher calls this on a breaker transition,
  // and the change is written within milliseconds (at most WritePolicy's
  // min_gap after the previous write, or at the next retry while writes are
  // failing). Cheap and thread-safe; a wake without a change writes nothing.
  void wake();

  // Stops the schedule, writes the entry once more (one attempt, whatever the
  // schedule or back-off says, so the last counters and breaker state are on
  // record) and joins the thread. Takes at most a request in flight plus that
  // final request. Idempotent and thread-safe.
  void stop();

  // True while the last write succeeded; false before the first one has, and
  // after any failure (also a missing pipeline or RBAC refusal: the agent
  // cannot report). The agent's /readyz reads it. Thread-safe.
  bool api_reachable() const;

  // Why the last attempt failed, for a person (the API server's answer or the
  // transport error; never a secret); empty while the last write succeeded.
  // Thread-safe.
  std::string last_error() const;

  // Writes attempted so far, successful or not, the final one included: lets
  // tests check the back-off without reading logs. Thread-safe.
  std::uint64_t write_attempts() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  // Declared last so it stops and joins before state_, which it uses, goes.
  std::jthread thread_;
};

}  // namespace outflow::agent
