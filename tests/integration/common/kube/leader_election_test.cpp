// Leader election against the real API server, with short timings (lease 2 s,
// renew deadline 1.5 s, retry 0.2 s) so that expiry can be watched in a few
// seconds: who leads, how fast a released lease changes hands, and that a
// leader that cannot renew (its RBAC is revoked mid-term) gives up before
// anyone else may take over.
//
// Every test has a namespace of its own. The takeover times are printed, as
// they are the numbers an operator's failover depends on.

#include "common/kube/api_client.h"
#include "common/kube/leader_election.h"
#include "kube_helpers.h"
#include "testenv.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace outflow {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

// A process-like candidate: a client of its own (as a pod would have), an
// elector, and a record of every callback with its time.
class Candidate {
 public:
  Candidate(kube::ClusterEndpoint endpoint, kube::LeaseConfig config)
      : rest_(std::move(endpoint), std::chrono::seconds(2)),
        api_(rest_),
        identity_(config.identity),
        elector_(api_, std::move(config), callbacks()) {}

  void start() { elector_.start(); }
  void stop() { elector_.stop(); }
  bool is_leader() const { return elector_.is_leader(); }
  const std::string& identity() const { return identity_; }

  int started() const { return started_.load(); }
  int stopped() const { return stopped_.load(); }
  Steady::time_point last_started_at() const { return Steady::time_point(Steady::duration(started_at_.load())); }
  Steady::time_point last_stopped_at() const { return Steady::time_point(Steady::duration(stopped_at_.load())); }
  std::vector<std::string> leaders_seen() const {
    std::lock_guard lock(mutex_);
    return leaders_seen_;
  }

 private:
  kube::LeaderCallbacks callbacks() {
    kube::LeaderCallbacks c;
    c.on_started_leading = [this] {
      started_at_.store(Steady::now().time_since_epoch().count());
      ++started_;
    };
    c.on_stopped_leading = [this] {
      stopped_at_.store(Steady::now().time_since_epoch().count());
      ++stopped_;
    };
    c.on_new_leader = [this](const std::string& holder) {
      std::lock_guard lock(mutex_);
      leaders_seen_.push_back(holder);
    };
    return c;
  }

  kube::RestClient rest_;
  kube::ApiClient api_;
  std::string identity_;
  std::atomic<int> started_{0};
  std::atomic<int> stopped_{0};
  std::atomic<Steady::duration::rep> started_at_{0};
  std::atomic<Steady::duration::rep> stopped_at_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> leaders_seen_;
  kube::LeaderElector elector_;  // last: its thread uses everything above
};

bool eventually(const std::function<bool()>& condition, Steady::duration timeout) {
  const auto deadline = Steady::now() + timeout;
  while (!condition()) {
    if (Steady::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

double seconds_between(Steady::time_point from, Steady::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

bool is_micro_time(const json& value) {
  static const std::regex micro_time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  return value.is_string() && std::regex_match(value.get<std::string>(), micro_time);
}

kube::ClusterEndpoint admin_endpoint() {
  return kube::load_kubeconfig(testenv::require("KUBECONFIG"));
}

class LeaderElection : public ::testing::Test {
 protected:
  LeaderElection()
      : rest_(testenv::admin_client()),
        api_(rest_),
        namespace_(rest_, "outflow-lease"),
        lease_name_(testenv::unique_name("outflow-operator")) {}

  kube::LeaseConfig config(const std::string& who) const {
    kube::LeaseConfig c;
    c.namespace_name = namespace_.name();
    c.name = lease_name_;
    c.identity = testenv::unique_name(who);
    c.lease_duration = 2s;
    c.renew_deadline = 1500ms;
    c.retry_period = 200ms;
    return c;
  }

  std::unique_ptr<Candidate> candidate(const std::string& who,
                                       kube::ClusterEndpoint endpoint = admin_endpoint()) const {
    return std::make_unique<Candidate>(std::move(endpoint), config(who));
  }

  json lease() { return api_.get(kube::kinds::leases(), namespace_.name(), lease_name_); }

  kube::RestClient rest_;
  kube::ApiClient api_;
  testenv::ScopedNamespace namespace_;
  std::string lease_name_;
};

TEST_F(LeaderElection, ExactlyOneOfTwoCandidatesLeadsAndTheLeaseLooksLikeClientGos) {
  auto a = candidate("a");
  auto b = candidate("b");
  a->start();
  b->start();
  ASSERT_TRUE(eventually([&] { return a->is_leader() || b->is_leader(); }, 3s));

  // Over a second (five renewals), never two leaders and never none.
  const auto until = Steady::now() + 1s;
  while (Steady::now() < until) {
    const int leaders = int(a->is_leader()) + int(b->is_leader());
    ASSERT_EQ(leaders, 1);
    std::this_thread::sleep_for(10ms);
  }
  Candidate& leader = a->is_leader() ? *a : *b;
  Candidate& follower = a->is_leader() ? *b : *a;
  EXPECT_EQ(leader.started(), 1);
  EXPECT_EQ(follower.started(), 0);
  EXPECT_EQ(leader.leaders_seen(), std::vector<std::string>{leader.identity()});
  EXPECT_EQ(follower.leaders_seen(), std::vector<std::string>{leader.identity()});

  const json first = lease();
  EXPECT_EQ(first["spec"]["holderIdentity"], leader.identity());
  EXPECT_EQ(first["spec"]["leaseDurationSeconds"], 2);
  EXPECT_EQ(first["spec"]["leaseTransitions"], 0);
  EXPECT_TRUE(is_micro_time(first["spec"]["acquireTime"])) << first["spec"].dump();
  EXPECT_TRUE(is_micro_time(first["spec"]["renewTime"])) << first["spec"].dump();

  std::this_thread::sleep_for(500ms);
  const json later = lease();
  EXPECT_NE(later["spec"]["renewTime"], first["spec"]["renewTime"]) << "the leader renews";
  EXPECT_EQ(later["spec"]["acquireTime"], first["spec"]["acquireTime"]) << "same term";
  EXPECT_EQ(later["spec"]["holderIdentity"], leader.identity());
}

TEST_F(LeaderElection, StoppingTheLeaderReleasesTheLeaseAndTheOtherTakesOverQuickly) {
  auto a = candidate("a");
  auto b = candidate("b");
  a->start();
  b->start();
  ASSERT_TRUE(eventually([&] { return a->is_leader() || b->is_leader(); }, 3s));
  Candidate& leader = a->is_leader() ? *a : *b;
  Candidate& follower = a->is_leader() ? *b : *a;
  ASSERT_TRUE(eventually([&] { return !follower.leaders_seen().empty(); }, 2s))
      << "the follower has seen the leader";

  const auto stop_called = Steady::now();
  leader.stop();
  const auto stop_returned = Steady::now();
  ASSERT_TRUE(eventually([&] { return follower.started() == 1; }, 3s));
  const auto took_over = follower.last_started_at();

  std::cout << "[ measured ] stop() took " << seconds_between(stop_called, stop_returned)
            << " s; takeover after a release took " << seconds_between(stop_called, took_over)
            << " s (lease 2 s, retry 0.2 s)\n";
  EXPECT_LT(seconds_between(stop_called, stop_returned), 0.5);
  EXPECT_LT(seconds_between(stop_called, took_over), 1.0) << "a released lease is not waited out";
  EXPECT_FALSE(leader.is_leader());
  EXPECT_EQ(leader.stopped(), 1);
  EXPECT_LE(leader.last_stopped_at(), stop_returned);
  EXPECT_TRUE(follower.is_leader());

  const json taken = lease();
  EXPECT_EQ(taken["spec"]["holderIdentity"], follower.identity());
  EXPECT_EQ(taken["spec"]["leaseTransitions"], 1);
  EXPECT_EQ(taken["spec"]["leaseDurationSeconds"], 2);
}

TEST_F(LeaderElection, StopReturnsPromptlyAndLeavesAReleasedLease) {
  // A long retry period: stop() must not sit it out.
  auto config_long = config("solo");
  config_long.lease_duration = 15s;
  config_long.renew_deadline = 10s;
  config_long.retry_period = 5s;
  Candidate solo(admin_endpoint(), config_long);
  solo.start();
  ASSERT_TRUE(eventually([&] { return solo.is_leader(); }, 3s));
  std::this_thread::sleep_for(100ms);  // now parked in its 5 s wait

  const auto before = Steady::now();
  solo.stop();
  const double took = seconds_between(before, Steady::now());
  std::cout << "[ measured ] stop() with a 5 s retry period took " << took << " s\n";
  EXPECT_LT(took, 0.5);
  EXPECT_EQ(solo.stopped(), 1);

  const json released = lease();
  EXPECT_EQ(released["spec"]["holderIdentity"], "");
  EXPECT_EQ(released["spec"]["leaseDurationSeconds"], 1);
  EXPECT_EQ(released["spec"]["leaseTransitions"], 0);
  EXPECT_TRUE(is_micro_time(released["spec"]["renewTime"]));
  solo.stop();  // idempotent
  EXPECT_EQ(solo.stopped(), 1);
}

TEST_F(LeaderElection, ALeaderWhoseLeaseIsTakenStepsDownAtTheNextRound) {
  auto a = candidate("a");
  a->start();
  ASSERT_TRUE(eventually([&] { return a->is_leader(); }, 3s));

  // Someone else writes its name on the lease (and then never renews it).
  Steady::time_point sent_at;   // a cannot have seen the write before this
  Steady::time_point taken_at;  // nor failed to see it after this
  int intruder_transitions = 0;
  ASSERT_TRUE(eventually(
      [&] {
        json current = lease();
        intruder_transitions = current["spec"].value("leaseTransitions", 0) + 1;
        current["spec"]["holderIdentity"] = "intruder";
        current["spec"]["leaseTransitions"] = intruder_transitions;
        current["spec"]["renewTime"] = current["spec"]["acquireTime"];
        sent_at = Steady::now();
        try {
          api_.replace(kube::kinds::leases(), namespace_.name(), current);
        } catch (const kube::ApiError& e) {
          if (e.kind() == kube::ErrorKind::Conflict) return false;  // raced a renewal
          throw;
        }
        taken_at = Steady::now();
        return true;
      },
      3s));

  ASSERT_TRUE(eventually([&] { return a->stopped() == 1; }, 2s));
  const double stepped_down = seconds_between(taken_at, a->last_stopped_at());
  EXPECT_FALSE(a->is_leader());
  std::cout << "[ measured ] the leader stepped down " << stepped_down
            << " s after its lease was taken (retry 0.2 s, renew deadline 1.5 s)\n";
  EXPECT_LT(stepped_down, 1.5);

  // The intruder never renews: after lease_duration of no change, a takes it back.
  ASSERT_TRUE(eventually([&] { return a->started() == 2; }, 5s));
  const double reacquired = seconds_between(sent_at, a->last_started_at());
  std::cout << "[ measured ] re-acquired the abandoned lease after " << reacquired << " s\n";
  EXPECT_GE(reacquired, 2.0) << "the intruder's lease is waited out in full";
  EXPECT_LT(reacquired, 3.5);
  const json back = lease();
  EXPECT_EQ(back["spec"]["holderIdentity"], a->identity());
  EXPECT_EQ(back["spec"]["leaseTransitions"], intruder_transitions + 1);
  const auto seen = a->leaders_seen();
  EXPECT_EQ(seen, (std::vector<std::string>{a->identity(), "intruder", a->identity()}));
}

TEST_F(LeaderElection, ALeaderThatCannotRenewStepsDownBeforeTheOtherMayTakeOver) {
  // The leader runs as the unprivileged user with a Role for leases; revoking
  // it mid-term makes every request of the leader fail (403), the way a
  // partitioned or crashed leader stops renewing, while the other candidate
  // still reads the lease and must wait out its full duration.
  const std::string user = testenv::require("OUTFLOW_TEST_KUBE_USER");
  api_.create(kube::kinds::roles(), namespace_.name(),
              {{"apiVersion", "rbac.authorization.k8s.io/v1"},
               {"kind", "Role"},
               {"metadata", {{"name", "leases"}}},
               {"rules",
                {{{"apiGroups", {"coordination.k8s.io"}},
                  {"resources", {"leases"}},
                  {"verbs", {"get", "create", "update"}}}}}});
  api_.create(kube::kinds::role_bindings(), namespace_.name(),
              {{"apiVersion", "rbac.authorization.k8s.io/v1"},
               {"kind", "RoleBinding"},
               {"metadata", {{"name", "leases"}}},
               {"subjects",
                {{{"kind", "User"}, {"name", user}, {"apiGroup", "rbac.authorization.k8s.io"}}}},
               {"roleRef",
                {{"kind", "Role"}, {"name", "leases"}, {"apiGroup", "rbac.authorization.k8s.io"}}}});
  const auto user_endpoint = testenv::endpoint_with_token(testenv::require("OUTFLOW_TEST_KUBE_USER_TOKEN"));
  {
    // The binding reaches the authorizer's cache a moment after it is stored.
    kube::RestClient rest(user_endpoint);
    kube::ApiClient user_api(rest);
    ASSERT_TRUE(eventually(
        [&] {
          try {
            user_api.get_if_exists(kube::kinds::leases(), namespace_.name(), lease_name_);
            return true;
          } catch (const kube::ApiError& e) {
            if (e.kind() != kube::ErrorKind::Forbidden) throw;
            return false;
          }
        },
        10s));
  }

  auto a = candidate("a", user_endpoint);
  a->start();
  ASSERT_TRUE(eventually([&] { return a->is_leader(); }, 3s));
  auto b = candidate("b");
  b->start();
  ASSERT_TRUE(eventually([&] { return !b->leaders_seen().empty(); }, 2s));

  // The test watches a's renewals too: the last one it sees is when b's wait
  // for expiry can have begun at the earliest (give or take one 10 ms poll).
  std::string renew_time;
  Steady::time_point last_renewal_seen;
  const auto watch_renewals = [&] {
    const json current = lease();
    if (current["spec"]["holderIdentity"] == a->identity() &&
        current["spec"]["renewTime"] != renew_time) {
      renew_time = current["spec"]["renewTime"];
      last_renewal_seen = Steady::now();
    }
  };
  const auto watch_until = Steady::now() + 300ms;
  while (Steady::now() < watch_until) {
    watch_renewals();
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_FALSE(b->is_leader());

  const auto revoked_at = Steady::now();
  api_.remove(kube::kinds::role_bindings(), namespace_.name(), "leases");
  ASSERT_TRUE(eventually(
      [&] {
        watch_renewals();
        return b->started() == 1;
      },
      6s));
  EXPECT_TRUE(b->is_leader());
  ASSERT_EQ(a->stopped(), 1);

  const double a_stopped = seconds_between(last_renewal_seen, a->last_stopped_at());
  const double b_started = seconds_between(last_renewal_seen, b->last_started_at());
  std::cout << "[ measured ] after the leader's last renewal (revoked "
            << seconds_between(last_renewal_seen, revoked_at) << " s later): it stepped down after "
            << a_stopped << " s, the other took over after " << b_started
            << " s (renew deadline 1.5 s, lease 2 s)\n";
  EXPECT_FALSE(a->is_leader());
  EXPECT_LT(a->last_stopped_at(), b->last_started_at()) << "never two leaders at once";
  EXPECT_LT(a_stopped, 1.5 + 0.3) << "the leader gives up at its renew deadline";
  EXPECT_GE(b_started, 2.0 - 0.1) << "an unreleased lease is waited out";
  EXPECT_LT(b_started, 4.0);
  const json taken = lease();
  EXPECT_EQ(taken["spec"]["holderIdentity"], b->identity());
  EXPECT_EQ(taken["spec"]["leaseTransitions"], 1);
}

}  // namespace
}  // namespace outflow
