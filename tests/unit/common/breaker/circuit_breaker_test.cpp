#include "common/breaker/circuit_breaker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace outflow::breaker {

// Readable failure messages: "Open" rather than "1-byte object <01>".
void PrintTo(State state, std::ostream* os) { *os << to_string(state); }
void PrintTo(const Transition& t, std::ostream* os) {
  *os << to_string(t.from) << " -> " << to_string(t.to) << " at "
      << t.at.time_since_epoch().count();
}

namespace {

using namespace std::chrono_literals;
using outflow::ManualClock;
using pipeline::BreakerSpec;

BreakerSpec spec(int threshold, int minimum, int window, std::int64_t open_ms, int half_open) {
  BreakerSpec s;
  s.failure_rate_threshold = threshold;
  s.minimum_calls = minimum;
  s.window_size = window;
  s.open_duration_ms = open_ms;
  s.half_open_calls = half_open;
  return s;
}

// Feeds outcomes in order, 'F' a failure and 'S' a success, and returns the
// transition the last one caused, expecting none before it: each test then
// says exactly which call moved the breaker.
std::optional<Transition> feed(CircuitBreaker& breaker, std::string_view outcomes) {
  std::optional<Transition> last;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (last) {
      ADD_FAILURE() << "transition before outcome " << i + 1 << " of \"" << outcomes << "\"";
    }
    last = outcomes[i] == 'F' ? breaker.record_failure() : breaker.record_success();
  }
  return last;
}

State state_of(CircuitBreaker& breaker) { return breaker.snapshot().state; }

// 50 % over the last 4 calls, at least 4 calls, 1 s open, 2 trials.
class CircuitBreakerTest : public ::testing::Test {
 protected:
  const ManualClock::time_point start_ = ManualClock::time_point{} + 1h;
  ManualClock clock_{start_};
  CircuitBreaker breaker_{spec(50, 4, 4, 1000, 2), clock_};

  // Closed -> Open by four failures; returns the moment it opened.
  ManualClock::time_point open() {
    const auto t = feed(breaker_, "FFFF");
    EXPECT_TRUE(t.has_value());
    return clock_.now();
  }

  // Closed -> Open -> HalfOpen, the open duration having passed.
  void half_open() {
    open();
    clock_.advance(1000ms);
    const auto s = breaker_.snapshot();
    EXPECT_EQ(s.state, State::HalfOpen);
  }
};

// --- names and settings ----------------------------------------------------------

TEST(CircuitBreakerState, IsSpelledAsTheEventPipelineStatusSpellsIt) {
  EXPECT_EQ(to_string(State::Closed), "Closed");
  EXPECT_EQ(to_string(State::Open), "Open");
  EXPECT_EQ(to_string(State::HalfOpen), "HalfOpen");
}

TEST(CircuitBreakerSettings, RejectsEachNonsensicalValueNamingItsField) {
  const ManualClock clock;
  struct Case {
    BreakerSpec settings;
    std::string field;
  };
  const std::vector<Case> cases = {
      {spec(0, 1, 1, 1, 1), "failureRateThreshold"},
      {spec(101, 1, 1, 1, 1), "failureRateThreshold"},
      {spec(50, 0, 1, 1, 1), "minimumCalls"},
      {spec(50, 1, 0, 1, 1), "windowSize"},
      {spec(50, 5, 4, 1, 1), "minimumCalls"},  // a window that can never hold enough calls
      {spec(50, 1, 1, 0, 1), "openDurationMs"},
      {spec(50, 1, 1, -5, 1), "openDurationMs"},
      {spec(50, 1, 1, 1, 0), "halfOpenCalls"},
  };
  for (const auto& c : cases) {
    try {
      CircuitBreaker breaker(c.settings, clock);
      ADD_FAILURE() << "accepted settings with a bad " << c.field;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(c.field), std::string::npos) << e.what();
    }
  }
}

TEST(CircuitBreakerSettings, AcceptsTheBoundariesAndTheDefaults) {
  const ManualClock clock;
  EXPECT_NO_THROW(CircuitBreaker(spec(1, 1, 1, 1, 1), clock));
  EXPECT_NO_THROW(CircuitBreaker(spec(100, 10, 10, 1, 1), clock));
  EXPECT_NO_THROW(CircuitBreaker(BreakerSpec{}, clock));
}

// --- Closed ----------------------------------------------------------------------

TEST_F(CircuitBreakerTest, StartsClosedSinceItWasCreatedWithNoTransitions) {
  const auto s = breaker_.snapshot();
  EXPECT_EQ(s.state, State::Closed);
  EXPECT_EQ(s.since, start_);
  EXPECT_EQ(s.transitions, 0U);
  EXPECT_FALSE(s.transition.has_value());
}

TEST_F(CircuitBreakerTest, ClosedPermitsEveryCallEvenWhileCallsFail) {
  EXPECT_FALSE(feed(breaker_, "FF").has_value());
  for (int i = 0; i < 10; ++i) {
    const auto p = breaker_.allow();
    EXPECT_TRUE(p.allowed);
    EXPECT_FALSE(p.transition.has_value());
  }
}

TEST_F(CircuitBreakerTest, ClosedDoesNotOpenBeforeMinimumCallsEvenAtAHundredPercent) {
  EXPECT_FALSE(feed(breaker_, "FFF").has_value());
  EXPECT_EQ(state_of(breaker_), State::Closed);
}

TEST_F(CircuitBreakerTest, ClosedOpensOnTheCallThatMakesTheRateReachTheThreshold) {
  clock_.advance(5s);
  const auto t = feed(breaker_, "SSFF");  // 2 of 4 = exactly 50 %
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, (Transition{State::Closed, State::Open, start_ + 5s}));

  const auto s = breaker_.snapshot();
  EXPECT_EQ(s.state, State::Open);
  EXPECT_EQ(s.since, start_ + 5s);
  EXPECT_EQ(s.transitions, 1U);
}

TEST_F(CircuitBreakerTest, ClosedStaysClosedJustBelowTheThreshold) {
  CircuitBreaker breaker(spec(50, 5, 5, 1000, 2), clock_);
  EXPECT_FALSE(feed(breaker, "SSSFF").has_value());  // 40 %
  EXPECT_EQ(state_of(breaker), State::Closed);
}

TEST_F(CircuitBreakerTest, ClosedOpensOnASuccessThatBringsTheWindowToMinimumCalls) {
  // 3 failures of 4 calls: the rate was already too high, only the count was short.
  const auto t = feed(breaker_, "FFFS");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->to, State::Open);
}

TEST_F(CircuitBreakerTest, ClosedJudgesOnlyTheLastWindowSizeCalls) {
  // 2 failures of 12 calls overall, but 2 of the last 4.
  const auto t = feed(breaker_, "SSSSSSSSSSFF");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->to, State::Open);
}

TEST_F(CircuitBreakerTest, ClosedForgetsFailuresThatSlidOutOfTheWindow) {
  // The first failure has left the window when the second arrives: 1 of 4.
  EXPECT_FALSE(feed(breaker_, "FSSSSSSF").has_value());
  EXPECT_EQ(state_of(breaker_), State::Closed);
  // One more failure makes it 2 of the last 4.
  const auto t = breaker_.record_failure();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->to, State::Open);
}

// --- Open ------------------------------------------------------------------------

TEST_F(CircuitBreakerTest, OpenRefusesCallsUntilTheOpenDurationHasPassed) {
  open();
  EXPECT_FALSE(breaker_.allow().allowed);
  clock_.advance(999ms);
  const auto p = breaker_.allow();
  EXPECT_FALSE(p.allowed);
  EXPECT_FALSE(p.transition.has_value());
  EXPECT_EQ(state_of(breaker_), State::Open);
}

TEST_F(CircuitBreakerTest, OpenBecomesHalfOpenWhenAPermissionIsAskedAfterTheOpenDuration) {
  const auto opened = open();
  clock_.advance(1000ms);
  const auto p = breaker_.allow();
  EXPECT_TRUE(p.allowed);  // the first trial call
  ASSERT_TRUE(p.transition.has_value());
  EXPECT_EQ(*p.transition, (Transition{State::Open, State::HalfOpen, opened + 1000ms}));
}

TEST_F(CircuitBreakerTest, OpenBecomesHalfOpenWhenTheStateIsAskedAndReportsItOnce) {
  open();
  clock_.advance(3s);  // noticed late: stamped when noticed
  const auto first = breaker_.snapshot();
  EXPECT_EQ(first.state, State::HalfOpen);
  EXPECT_EQ(first.since, clock_.now());
  EXPECT_EQ(first.transitions, 2U);
  ASSERT_TRUE(first.transition.has_value());
  EXPECT_EQ(*first.transition, (Transition{State::Open, State::HalfOpen, clock_.now()}));

  const auto second = breaker_.snapshot();
  EXPECT_EQ(second.state, State::HalfOpen);
  EXPECT_FALSE(second.transition.has_value());
  EXPECT_FALSE(breaker_.allow().transition.has_value());
}

TEST_F(CircuitBreakerTest, OpenIgnoresLateOutcomesOfCallsPermittedBeforeItOpened) {
  open();
  EXPECT_FALSE(breaker_.record_success().has_value());
  EXPECT_FALSE(breaker_.record_failure().has_value());
  EXPECT_EQ(breaker_.snapshot().transitions, 1U);
  // Nor do they count as trials once HalfOpen.
  clock_.advance(1000ms);
  EXPECT_EQ(state_of(breaker_), State::HalfOpen);
  EXPECT_TRUE(breaker_.allow().allowed);
  EXPECT_TRUE(breaker_.allow().allowed);
}

// --- trip: an outage that is no call's outcome ----------------------------------

TEST_F(CircuitBreakerTest, TripOpensAClosedBreakerBeforeMinimumCallsAndStartsTheOpenTimer) {
  EXPECT_FALSE(feed(breaker_, "F").has_value());  // one failure: far below minimumCalls
  clock_.advance(2s);
  const auto t = breaker_.trip();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, (Transition{State::Closed, State::Open, clock_.now()}));
  EXPECT_FALSE(breaker_.allow().allowed);
  clock_.advance(1000ms);
  EXPECT_EQ(state_of(breaker_), State::HalfOpen);
}

TEST_F(CircuitBreakerTest, TripWhileOpenChangesNothingSoASilenceDoesNotPostponeTheTrial) {
  const auto opened = open();
  clock_.advance(600ms);
  EXPECT_FALSE(breaker_.trip().has_value());
  EXPECT_EQ(breaker_.snapshot().since, opened);
  clock_.advance(400ms);
  EXPECT_EQ(state_of(breaker_), State::HalfOpen);
}

TEST_F(CircuitBreakerTest, TripWhileHalfOpenReopensAndRestartsTheOpenTimer) {
  half_open();
  EXPECT_TRUE(breaker_.allow().allowed);
  const auto t = breaker_.trip();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, (Transition{State::HalfOpen, State::Open, clock_.now()}));
  clock_.advance(999ms);
  EXPECT_EQ(state_of(breaker_), State::Open);
}

// --- HalfOpen --------------------------------------------------------------------

TEST_F(CircuitBreakerTest, HalfOpenPermitsAtMostHalfOpenCallsTrials) {
  half_open();
  EXPECT_TRUE(breaker_.allow().allowed);
  EXPECT_TRUE(breaker_.allow().allowed);
  EXPECT_FALSE(breaker_.allow().allowed);
  EXPECT_FALSE(breaker_.allow().allowed);
  EXPECT_EQ(state_of(breaker_), State::HalfOpen);
}

TEST_F(CircuitBreakerTest, HalfOpenClosesAfterHalfOpenCallsSuccesses) {
  half_open();
  ASSERT_TRUE(breaker_.allow().allowed);
  ASSERT_TRUE(breaker_.allow().allowed);
  EXPECT_FALSE(breaker_.record_success().has_value());
  clock_.advance(20ms);
  const auto t = breaker_.record_success();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, (Transition{State::HalfOpen, State::Closed, clock_.now()}));
  EXPECT_TRUE(breaker_.allow().allowed);
}

// A replica that stands down with its trials in flight never hears of them
// again. Unless the abandoned trials count as failed, the breaker stays
// HalfOpen with its permits spent and refuses every call from then on.
TEST_F(CircuitBreakerTest, AbandonedTrialsFailSoANewRoundOfTrialsFollowsTheOpenDuration) {
  half_open();
  ASSERT_TRUE(breaker_.allow().allowed);
  ASSERT_TRUE(breaker_.allow().allowed);
  ASSERT_FALSE(breaker_.allow().allowed);
  const auto t = breaker_.abandon_outstanding();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, (Transition{State::HalfOpen, State::Open, clock_.now()}));
  clock_.advance(999ms);
  EXPECT_FALSE(breaker_.allow().allowed);
  clock_.advance(1ms);
  EXPECT_TRUE(breaker_.allow().allowed) << "a new trial once the open duration has passed";
}

TEST_F(CircuitBreakerTest, AbandoningWithNoTrialOutstandingChangesNothing) {
  EXPECT_FALSE(breaker_.abandon_outstanding().has_value()) << "Closed";
  EXPECT_EQ(state_of(breaker_), State::Closed);
  open();
  EXPECT_FALSE(breaker_.abandon_outstanding().has_value()) << "Open";
  clock_.advance(1000ms);
  EXPECT_EQ(state_of(breaker_), State::HalfOpen);
  EXPECT_FALSE(breaker_.abandon_outstanding().has_value()) << "HalfOpen, no trial permitted yet";
  ASSERT_TRUE(breaker_.allow().allowed);
  EXPECT_FALSE(breaker_.record_success().has_value());
  EXPECT_FALSE(breaker_.abandon_outstanding().has_value()) << "HalfOpen, the one trial answered";
  EXPECT_EQ(state_of(breaker_), State::HalfOpen);
}

TEST_F(CircuitBreakerTest, HalfOpenReopensOnAnyTrialFailureAndRestartsTheOpenTimer) {
  half_open();
  ASSERT_TRUE(breaker_.allow().allowed);
  ASSERT_TRUE(breaker_.allow().allowed);
  EXPECT_FALSE(breaker_.record_success().has_value());
  clock_.advance(50ms);
  const auto t = breaker_.record_failure();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, (Transition{State::HalfOpen, State::Open, clock_.now()}));

  clock_.advance(999ms);
  EXPECT_FALSE(breaker_.allow().allowed);
  clock_.advance(1ms);
  const auto p = breaker_.allow();
  EXPECT_TRUE(p.allowed);
  ASSERT_TRUE(p.transition.has_value());
  EXPECT_EQ(p.transition->to, State::HalfOpen);
}

TEST_F(CircuitBreakerTest, HalfOpenStartsAFreshRoundOfTrialsEachTime) {
  half_open();
  ASSERT_TRUE(breaker_.allow().allowed);
  ASSERT_TRUE(breaker_.record_failure().has_value());  // back to Open
  clock_.advance(1000ms);
  // Two new trials, and one earlier success does not carry over.
  EXPECT_TRUE(breaker_.allow().allowed);
  EXPECT_TRUE(breaker_.allow().allowed);
  EXPECT_FALSE(breaker_.allow().allowed);
  EXPECT_FALSE(breaker_.record_success().has_value());
  EXPECT_TRUE(breaker_.record_success().has_value());
}

TEST_F(CircuitBreakerTest, HalfOpenIgnoresOutcomesWithNoTrialOutstanding) {
  half_open();
  // No allow() yet: these outcomes belong to calls from before the breaker opened.
  EXPECT_FALSE(breaker_.record_failure().has_value());
  EXPECT_FALSE(breaker_.record_success().has_value());
  EXPECT_FALSE(breaker_.record_success().has_value());
  EXPECT_EQ(state_of(breaker_), State::HalfOpen);
}

// --- back to Closed --------------------------------------------------------------

TEST_F(CircuitBreakerTest, EnteringClosedClearsTheWindow) {
  CircuitBreaker breaker(spec(50, 4, 10, 1000, 1), clock_);
  ASSERT_TRUE(feed(breaker, "FFFF").has_value());
  clock_.advance(1000ms);
  ASSERT_TRUE(breaker.allow().allowed);
  ASSERT_TRUE(breaker.record_success().has_value());  // Closed
  // Had the four failures stayed, three more would reopen it (7 of 8).
  EXPECT_FALSE(feed(breaker, "FFF").has_value());
  EXPECT_EQ(state_of(breaker), State::Closed);
  const auto t = breaker.record_failure();  // 4 of 4 in the new window
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->to, State::Open);
}

TEST_F(CircuitBreakerTest, CountsEveryTransitionAndKnowsSinceWhen) {
  open();                                                 // 1 Closed -> Open
  clock_.advance(1000ms);
  ASSERT_TRUE(breaker_.allow().transition.has_value());   // 2 Open -> HalfOpen
  ASSERT_TRUE(breaker_.record_failure().has_value());     // 3 HalfOpen -> Open
  clock_.advance(1000ms);
  ASSERT_TRUE(breaker_.allow().transition.has_value());   // 4 Open -> HalfOpen
  ASSERT_TRUE(breaker_.allow().allowed);
  ASSERT_FALSE(breaker_.record_success().has_value());
  clock_.advance(7ms);
  ASSERT_TRUE(breaker_.record_success().has_value());     // 5 HalfOpen -> Closed

  const auto s = breaker_.snapshot();
  EXPECT_EQ(s.state, State::Closed);
  EXPECT_EQ(s.transitions, 5U);
  EXPECT_EQ(s.since, clock_.now());
}

// --- concurrency -----------------------------------------------------------------

TEST_F(CircuitBreakerTest, ConcurrentCallersShareTheTrialsAndOneOfThemSeesTheTransition) {
  CircuitBreaker breaker(spec(50, 1, 1, 1000, 3), clock_);
  ASSERT_TRUE(breaker.record_failure().has_value());
  clock_.advance(1000ms);

  std::atomic<int> permitted{0};
  std::atomic<int> transitions{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] {
      for (int j = 0; j < 100; ++j) {
        const auto p = breaker.allow();
        if (p.allowed) {
          ++permitted;
        }
        if (p.transition) {
          ++transitions;
        }
      }
    });
  }
  for (auto& t : callers) {
    t.join();
  }
  EXPECT_EQ(permitted.load(), 3);
  EXPECT_EQ(transitions.load(), 1);
}

}  // namespace
}  // namespace outflow::breaker
