#pragma once

// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules:
//  - A candidate takes the lease when it is free (no holder) or expired: the
//    holder has not renewed within leaseDurationSeconds *as measured by this
//    process's own monotonic clock since it last saw the record change*. The
//    lease's renewTime is written for humans; comparing it with our wall clock
//    would trust that two machines agree on the time.
//  - The leader renews every retry_period; if it cannot renew for
//    renew_deadline it stops leading (on_stopped_leading) at once, before the
//    lease can expire and another process can take over.
//  - Every write is an update with the resourceVersion read, so two candidates
//    racing for one lease cannot both win (one gets Conflict).
//  - On a clean stop the leader releases the lease (empty holder, 1 s
//    duration), so a successor need not wait for it to expire.
//
// The decision of each round is the pure function decide(), unit-tested with
// an injected clock; LeaderElector does the I/O on its own thread.

#include "common/clock.h"
#include "common/kube/api_client.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace outflow::kube {

struct LeaseConfig {
  std::string namespace_name;
  std::string name;
  std::string identity;  // unique per process: pod name plus a random suffix
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
  // A candidate waits retry_period * (1 + U[0, retry_jitter)) between tries, so
  // replicas that started together do not keep hitting the API server in step.
  // A leader renews every retry_period exactly. 0 turns jitter off.
  double retry_jitter = 0.2;
};

// The parts of a Lease's spec the election reads and writes.
struct LeaseRecord {
  std::string holder;
  int lease_duration_seconds = 0;
  std::string acquire_time;  // RFC 3339 with microseconds, as MicroTime
  std::string renew_time;
  int transitions = 0;
  bool operator==(const LeaseRecord&) const = default;
};

LeaseRecord lease_record_from_json(const nlohmann::json& lease);

// Thrown by the write fence when this process does not hold the lease (any
// more): the write was not sent.
class LeaseNotHeld : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What this round should do.
enum class LeaseAction {
  Create,   // no Lease object yet: create one naming us
  Acquire,  // free or expired: update it to name us (transitions + 1)
  Renew,    // ours: update renewTime
  Wait,     // someone else holds it and it has not expired
};

struct Observation {
  LeaseRecord record;
  Clock::time_point observed_at;  // when this process last saw `record` change
};

// Pure. `current` is the lease as read now (nullopt: it does not exist);
// `last` what we saw before (nullopt: first round).
LeaseAction decide(const std::optional<LeaseRecord>& current, const std::optional<Observation>& last,
                   const std::string& identity, Clock::time_point now);

// Pure. The observation to pass as `last` next round: `last` unchanged while the
// record is the same, else `current` seen at `now`. Keeping the old time while
// nothing changes is what lets a holder that stopped renewing expire.
Observation observe(const LeaseRecord& current, const std::optional<Observation>& last,
                    Clock::time_point now);

// All optional. They run on the elector thread, which renews only after they
// return: keep them short (start or stop workers, then return). An exception
// from a callback is logged and otherwise ignored.
//
// After a lost lease the elector campaigns again, so on_started_leading may run
// again after on_stopped_leading. on_stopped_leading runs before the lease is
// released on stop(): when it returns, the leader's work must have stopped,
// since the successor may start at once.
struct LeaderCallbacks {
  std::function<void()> on_started_leading;  // on the elector thread
  std::function<void()> on_stopped_leading;  // on the elector thread; also after a lost lease
  // Each time the lease shows a new holder (our own identity too, when we win);
  // not for a released lease (empty holder).
  std::function<void(const std::string& holder)> on_new_leader;  // optional
};

class LeaderElector {
 public:
  // Borrows `api` and `clock`; both must outlive the elector. Throws
  // std::invalid_argument unless identity, namespace and name are set and
  // lease_duration > renew_deadline > retry_period > 0.
  //
  // A request that hangs delays the step-down at renew_deadline until it
  // returns (is_leader() turns false on time regardless): give the elector a
  // RestClient whose timeout is well below renew_deadline, not the watch's.
  LeaderElector(ApiClient& api, LeaseConfig config, LeaderCallbacks callbacks,
                const Clock& clock = SteadyClock::instance());
  ~LeaderElector();  // stop()
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  void start();  // once; a second call throws std::logic_error
  // Stops campaigning; a leader calls on_stopped_leading and releases the lease.
  // Idempotent; joins the thread (waiting at most for a request in flight, not
  // for the retry period). From a callback it only asks the thread to stop.
  void stop();

  // Thread-safe. False as soon as renew_deadline has passed since the last
  // successful renewal, even while the elector thread is still blocked in a
  // request and has not called on_stopped_leading yet.
  bool is_leader() const;

  // For ApiClient (and anything else that writes on the leader's behalf):
  // throws LeaseNotHeld unless is_leader(). It asks the clock, not the elector
  // thread, so a process that was frozen (SIGSTOP, a hung node) past its lease
  // refuses its very first write after it resumes, before the elector thread
  // has even noticed. The elector must outlive the fence.
  WriteFence write_fence() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace outflow::kube
