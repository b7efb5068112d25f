// The election's decisions, round by round, with a clock moved by hand: what a
// candidate or leader does for every state the Lease can be in, and the Lease
// objects it writes. The I/O loop around this runs against the real API
// server in tests/integration/common/kube/leader_election_test.cpp.

#include "common/kube/leader_election.h"
#include "common/kube/lease_record.h"

#include <gtest/gtest.h>

#include <functional>

namespace outflow::kube {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kMe = "operator-a-1x2y";
const std::string kOther = "operator-b-3z4w";

LeaseRecord held_by(const std::string& holder, int renew_second = 0) {
  LeaseRecord record;
  record.holder = holder;
  record.lease_duration_seconds = 15;
  record.acquire_time = "2030-01-01T00:00:00.000000Z";
  record.renew_time = "2030-01-01T00:00:" + std::to_string(10 + renew_second) + ".000000Z";
  record.transitions = 3;
  return record;
}

// One candidate's view over rounds: what decide() says, and the observation
// carried to the next round exactly as the elector carries it.
class Candidate {
 public:
  explicit Candidate(ManualClock& clock, std::string identity = kMe)
      : clock_(clock), identity_(std::move(identity)) {}

  LeaseAction round(const std::optional<LeaseRecord>& current) {
    const auto action = decide(current, last_, identity_, clock_.now());
    if (current) last_ = observe(*current, last_, clock_.now());
    return action;
  }

 private:
  ManualClock& clock_;
  std::string identity_;
  std::optional<Observation> last_;
};

TEST(LeaderElectionDecide, CreatesTheLeaseWhenItIsMissing) {
  ManualClock clock;
  EXPECT_EQ(decide(std::nullopt, std::nullopt, kMe, clock.now()), LeaseAction::Create);
  // Also when it existed before and was deleted since.
  const Observation seen{held_by(kOther), clock.now()};
  EXPECT_EQ(decide(std::nullopt, seen, kMe, clock.now()), LeaseAction::Create);
}

TEST(LeaderElectionDecide, WaitsWhileAnotherHolderIsFresh) {
  ManualClock clock;
  Candidate me(clock);
  EXPECT_EQ(me.round(held_by(kOther)), LeaseAction::Wait);
  clock.advance(14s);
  EXPECT_EQ(me.round(held_by(kOther)), LeaseAction::Wait);
}

TEST(LeaderElectionDecide, AFirstSightingIsFreshHoweverOldItsRenewTimeLooks) {
  // renewTime is years in the past by our wall clock, but wall clocks of two
  // machines are not to be trusted: only our own observation counts.
  ManualClock clock(Clock::time_point(std::chrono::hours(24 * 365 * 40)));
  LeaseRecord ancient = held_by(kOther);
  ancient.renew_time = "1999-01-01T00:00:00.000000Z";
  EXPECT_EQ(decide(ancient, std::nullopt, kMe, clock.now()), LeaseAction::Wait);
}

TEST(LeaderElectionDecide, AcquiresAfterLeaseDurationOfLocalObservationWithoutChange) {
  ManualClock clock;
  Candidate me(clock);
  const auto record = held_by(kOther);
  EXPECT_EQ(me.round(record), LeaseAction::Wait);
  clock.advance(15s - 1ms);
  EXPECT_EQ(me.round(record), LeaseAction::Wait);
  clock.advance(1ms);
  EXPECT_EQ(me.round(record), LeaseAction::Acquire);
}

TEST(LeaderElectionDecide, UsesTheLeasesOwnDurationNotOurs) {
  ManualClock clock;
  Candidate me(clock);
  LeaseRecord record = held_by(kOther);
  record.lease_duration_seconds = 60;
  EXPECT_EQ(me.round(record), LeaseAction::Wait);
  clock.advance(30s);
  EXPECT_EQ(me.round(record), LeaseAction::Wait);
  clock.advance(30s);
  EXPECT_EQ(me.round(record), LeaseAction::Acquire);
}

TEST(LeaderElectionDecide, AnObservedRenewalResetsTheExpiry) {
  ManualClock clock;
  Candidate me(clock);
  EXPECT_EQ(me.round(held_by(kOther, 0)), LeaseAction::Wait);
  clock.advance(10s);
  EXPECT_EQ(me.round(held_by(kOther, 1)), LeaseAction::Wait);  // renewed: count from here
  clock.advance(10s);  // 20 s since the first sighting, 10 s since the renewal
  EXPECT_EQ(me.round(held_by(kOther, 1)), LeaseAction::Wait);
  clock.advance(5s);
  EXPECT_EQ(me.round(held_by(kOther, 1)), LeaseAction::Acquire);
}

TEST(LeaderElectionDecide, AnyChangeOfTheRecordResetsTheExpiry) {
  ManualClock clock;
  Candidate me(clock);
  EXPECT_EQ(me.round(held_by(kOther)), LeaseAction::Wait);
  clock.advance(14s);
  // A new holder took over with the same renewTime text: still a change.
  EXPECT_EQ(me.round(held_by("operator-c")), LeaseAction::Wait);
  clock.advance(14s);
  EXPECT_EQ(me.round(held_by("operator-c")), LeaseAction::Wait);
  clock.advance(1s);
  EXPECT_EQ(me.round(held_by("operator-c")), LeaseAction::Acquire);
}

TEST(LeaderElectionDecide, RenewsItsOwnLeaseWhateverItsAge) {
  ManualClock clock;
  Candidate me(clock);
  EXPECT_EQ(me.round(held_by(kMe)), LeaseAction::Renew);
  clock.advance(1h);
  EXPECT_EQ(me.round(held_by(kMe)), LeaseAction::Renew);
}

TEST(LeaderElectionDecide, AcquiresAReleasedLeaseAtOnce) {
  ManualClock clock;
  Candidate me(clock);
  EXPECT_EQ(me.round(held_by(kOther)), LeaseAction::Wait);
  LeaseRecord released = held_by("");
  released.lease_duration_seconds = 1;
  EXPECT_EQ(me.round(released), LeaseAction::Acquire);
  EXPECT_EQ(decide(released, std::nullopt, kMe, clock.now()), LeaseAction::Acquire);
}

TEST(LeaderElectionDecide, ALeaseWithoutDurationIsExpired) {
  ManualClock clock;
  LeaseRecord record = held_by(kOther);
  record.lease_duration_seconds = 0;
  EXPECT_EQ(decide(record, std::nullopt, kMe, clock.now()), LeaseAction::Acquire);
}

TEST(LeaderElectionDecide, ALeaderSeesItsLeaseTakenAndWaits) {
  // The leader's own record, then someone else's name on it: Wait, which the
  // elector turns into stepping down.
  ManualClock clock;
  Candidate me(clock);
  EXPECT_EQ(me.round(held_by(kMe)), LeaseAction::Renew);
  clock.advance(2s);
  EXPECT_EQ(me.round(held_by(kOther, 2)), LeaseAction::Wait);
}

TEST(LeaderElectionDecide, TwoCandidatesCountFromTheirOwnSightings) {
  ManualClock clock;
  Candidate early(clock, "early");
  Candidate late(clock, "late");
  const auto record = held_by(kOther);
  EXPECT_EQ(early.round(record), LeaseAction::Wait);
  clock.advance(10s);
  EXPECT_EQ(late.round(record), LeaseAction::Wait);
  clock.advance(5s);
  EXPECT_EQ(early.round(record), LeaseAction::Acquire);
  EXPECT_EQ(late.round(record), LeaseAction::Wait);
}

TEST(LeaderElectionObserve, KeepsTheFirstSightingWhileNothingChanges) {
  ManualClock clock;
  const auto first = observe(held_by(kOther), std::nullopt, clock.now());
  EXPECT_EQ(first.observed_at, clock.now());
  clock.advance(5s);
  const auto same = observe(held_by(kOther), first, clock.now());
  EXPECT_EQ(same.observed_at, first.observed_at);
  const auto changed = observe(held_by(kOther, 1), same, clock.now());
  EXPECT_EQ(changed.observed_at, clock.now());
  EXPECT_EQ(changed.record, held_by(kOther, 1));
}

TEST(LeaseRecordFromJson, ReadsTheSpecFields) {
  const json lease = {{"metadata", {{"name", "outflow-operator"}}},
                      {"spec",
                       {{"holderIdentity", kOther},
                        {"leaseDurationSeconds", 15},
                        {"acquireTime", "2030-01-01T00:00:00.000000Z"},
                        {"renewTime", "2030-01-01T00:00:10.000000Z"},
                        {"leaseTransitions", 3}}}};
  EXPECT_EQ(lease_record_from_json(lease), held_by(kOther));
}

TEST(LeaseRecordFromJson, MissingFieldsAreEmpty) {
  EXPECT_EQ(lease_record_from_json(json{{"metadata", {{"name", "x"}}}}), LeaseRecord{});
  EXPECT_EQ(lease_record_from_json(json{{"spec", json::object()}}), LeaseRecord{});
  EXPECT_EQ(lease_record_from_json(json(nullptr)), LeaseRecord{});
}

TEST(LeaseRecordWrite, FormatsMicroTimeLikeTheApiServer) {
  const auto time = std::chrono::system_clock::time_point(std::chrono::seconds(1136214245)) +
                    std::chrono::microseconds(7);
  EXPECT_EQ(format_micro_time(time), "2006-01-02T15:04:05.000007Z");
  EXPECT_EQ(format_micro_time(time + std::chrono::nanoseconds(999)), "2006-01-02T15:04:05.000007Z");
}

TEST(LeaseRecordWrite, DurationRoundsUpToWholeSeconds) {
  EXPECT_EQ(lease_duration_seconds(15s), 15);
  EXPECT_EQ(lease_duration_seconds(1500ms), 2);
  EXPECT_EQ(lease_duration_seconds(0ms), 1);
}

LeaseConfig config() {
  LeaseConfig c;
  c.namespace_name = "outflow-system";
  c.name = "outflow-operator";
  c.identity = kMe;
  c.lease_duration = 15s;
  return c;
}

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1136214245));
const std::string kNowText = "2006-01-02T15:04:05.000000Z";

json existing_lease(const std::string& holder) {
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata",
           {{"name", "outflow-operator"},
            {"namespace", "outflow-system"},
            {"resourceVersion", "42"},
            {"labels", {{"keep", "me"}}}}},
          {"spec",
           {{"holderIdentity", holder},
            {"leaseDurationSeconds", 30},
            {"acquireTime", "2005-01-01T00:00:00.000000Z"},
            {"renewTime", "2005-01-01T00:01:00.000000Z"},
            {"leaseTransitions", 4}}}};
}

TEST(LeaseRecordWrite, CreateNamesUsWithNoTransitions) {
  const json lease = lease_to_write(std::nullopt, LeaseAction::Create, config(), kNow);
  EXPECT_EQ(lease["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(lease["kind"], "Lease");
  EXPECT_EQ(lease["metadata"]["name"], "outflow-operator");
  EXPECT_EQ(lease["metadata"]["namespace"], "outflow-system");
  EXPECT_EQ(lease["spec"], (json{{"holderIdentity", kMe},
                                 {"leaseDurationSeconds", 15},
                                 {"acquireTime", kNowText},
                                 {"renewTime", kNowText},
                                 {"leaseTransitions", 0}}));
}

TEST(LeaseRecordWrite, AcquireCountsATransitionAndKeepsTheResourceVersion) {
  const json lease = lease_to_write(existing_lease(kOther), LeaseAction::Acquire, config(), kNow);
  EXPECT_EQ(lease["metadata"]["resourceVersion"], "42") << "the write must be able to conflict";
  EXPECT_EQ(lease["metadata"]["labels"]["keep"], "me");
  EXPECT_EQ(lease["spec"], (json{{"holderIdentity", kMe},
                                 {"leaseDurationSeconds", 15},
                                 {"acquireTime", kNowText},
                                 {"renewTime", kNowText},
                                 {"leaseTransitions", 5}}));
}

TEST(LeaseRecordWrite, RenewKeepsAcquireTimeAndTransitions) {
  const json lease = lease_to_write(existing_lease(kMe), LeaseAction::Renew, config(), kNow);
  EXPECT_EQ(lease["metadata"]["resourceVersion"], "42");
  EXPECT_EQ(lease["spec"], (json{{"holderIdentity", kMe},
                                 {"leaseDurationSeconds", 15},
                                 {"acquireTime", "2005-01-01T00:00:00.000000Z"},
                                 {"renewTime", kNowText},
                                 {"leaseTransitions", 4}}));
}

TEST(LeaseRecordWrite, WaitAndUpdatesWithoutALeaseAreBugs) {
  EXPECT_THROW(lease_to_write(existing_lease(kOther), LeaseAction::Wait, config(), kNow),
               std::invalid_argument);
  EXPECT_THROW(lease_to_write(std::nullopt, LeaseAction::Renew, config(), kNow),
               std::invalid_argument);
}

TEST(LeaseRecordWrite, ReleaseEmptiesTheHolderWithAOneSecondLease) {
  const json lease = released_lease(existing_lease(kMe), kNow);
  EXPECT_EQ(lease["metadata"]["resourceVersion"], "42");
  EXPECT_EQ(lease["spec"], (json{{"holderIdentity", ""},
                                 {"leaseDurationSeconds", 1},
                                 {"acquireTime", kNowText},
                                 {"renewTime", kNowText},
                                 {"leaseTransitions", 4}}));
  // And the next candidate takes it at once, counting the transition.
  ManualClock clock;
  EXPECT_EQ(decide(lease_record_from_json(lease), std::nullopt, kOther, clock.now()),
            LeaseAction::Acquire);
}

TEST(LeaderElectorConfig, RejectsConfigurationsThatCouldAllowTwoLeaders) {
  // Nothing is sent: the constructor validates, and no elector is started.
  RestClient rest(ClusterEndpoint{"https://127.0.0.1:1", "", "", "", "", ""});
  ApiClient api(rest);
  ManualClock clock;
  const auto rejected = [&](const std::function<void(LeaseConfig&)>& change) {
    LeaseConfig c = config();
    change(c);
    try {
      LeaderElector elector(api, c, {}, clock);
    } catch (const std::invalid_argument&) {
      return true;
    }
    return false;
  };
  EXPECT_FALSE(rejected([](LeaseConfig&) {}));
  EXPECT_TRUE(rejected([](LeaseConfig& c) { c.renew_deadline = c.lease_duration; }));
  EXPECT_TRUE(rejected([](LeaseConfig& c) { c.retry_period = c.renew_deadline; }));
  EXPECT_TRUE(rejected([](LeaseConfig& c) { c.retry_period = 0ms; }));
  EXPECT_TRUE(rejected([](LeaseConfig& c) { c.identity.clear(); }));
  EXPECT_TRUE(rejected([](LeaseConfig& c) { c.name.clear(); }));
  EXPECT_TRUE(rejected([](LeaseConfig& c) { c.retry_jitter = -0.1; }));
}

}  // namespace
}  // namespace outflow::kube
