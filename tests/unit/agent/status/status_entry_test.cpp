#include "agent/status/status_entry.h"

#include "common/kube/yaml_json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

using namespace outflow::agent;
using namespace std::chrono_literals;
using nlohmann::json;
using outflow::Clock;
using State = outflow::breaker::State;

namespace {

// 2026-11-23T10:15:00Z
const std::chrono::system_clock::time_point kNow{std::chrono::seconds(1795428900)};

AgentState full_state() {
  AgentState s;
  s.breaker = State::Open;
  s.breaker_since = kNow - 90s;
  s.outbox_backlog = 1200;
  s.oldest_pending_age_seconds = 42;
  s.published_total = 98765;
  s.poison_total = 3;
  s.dlq_pending = 7;
  s.parked_total = 2;
  s.last_error = "Local: Broker transport failure";
  s.last_error_at = kNow - 20s;
  return s;
}

// The item schema of status.agents in the shipped CRD.
json agents_item_schema() {
  std::ifstream in(std::string(OUTFLOW_SOURCE_DIR) + "/crds/eventpipeline.yaml");
  std::ostringstream text;
  text << in.rdbuf();
  const json crd = outflow::kube::parse_yaml_documents(text.str()).at(0);
  return crd.at("spec").at("versions").at(0).at("schema").at("openAPIV3Schema").at("properties")
      .at("status").at("properties").at("agents").at("items");
}

std::size_t code_points(const std::string& text) {
  std::size_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string repeat(const std::string& piece, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += piece;
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// The entry
// ---------------------------------------------------------------------------

TEST(StatusEntry, CarriesEveryFieldOfTheCrdsAgentEntry) {
  EXPECT_EQ(status_entry("orders-agent-7d9f-x2x", full_state(), kNow),
            json({{"pod", "orders-agent-7d9f-x2x"},
                  {"breaker", "Open"},
                  {"since", "2026-11-23T10:13:30Z"},
                  {"outboxBacklog", 1200},
                  {"oldestPendingAgeSeconds", 42},
                  {"publishedTotal", 98765},
                  {"dlqPending", 7},
                  {"parkedTotal", 2},
                  {"lastError", "Local: Broker transport failure"},
                  {"lastErrorTime", "2026-11-23T10:14:40Z"},
                  {"heartbeatTime", "2026-11-23T10:15:00Z"}}));
}

TEST(StatusEntry, LeavesOutWhatIsNotKnownInsteadOfReportingZero) {
  // A fresh agent: backlog not measured yet, breaker time unset, no error.
  const json entry = status_entry("p", AgentState{}, kNow);
  EXPECT_EQ(entry, json({{"pod", "p"},
                         {"breaker", "Closed"},
                         {"publishedTotal", 0},
                         {"dlqPending", 0},
                         {"parkedTotal", 0},
                         {"heartbeatTime", "2026-11-23T10:15:00Z"}}));
}

TEST(StatusEntry, AnEmptyOutboxHasABacklogOfZeroAndNoOldestAge) {
  AgentState s;
  s.outbox_backlog = 0;
  const json entry = status_entry("p", s, kNow);
  EXPECT_EQ(entry.at("outboxBacklog"), 0);
  EXPECT_FALSE(entry.contains("oldestPendingAgeSeconds")) << entry.dump();
}

TEST(StatusEntry, SpellsTheBreakerAsTheCrdsEnum) {
  const json enum_values = agents_item_schema().at("properties").at("breaker").at("enum");
  for (const auto& [state, text] : {std::pair{State::Closed, "Closed"}, std::pair{State::Open, "Open"},
                                    std::pair{State::HalfOpen, "HalfOpen"}}) {
    AgentState s;
    s.breaker = state;
    const json entry = status_entry("p", s, kNow);
    EXPECT_EQ(entry.at("breaker"), text);
    EXPECT_NE(std::find(enum_values.begin(), enum_values.end(), entry.at("breaker")), enum_values.end())
        << entry.at("breaker") << " is not in the CRD's enum " << enum_values.dump();
  }
}

TEST(StatusEntry, UsesOnlyFieldsTheCrdDeclaresWithTheirTypes) {
  // The API server would prune an undeclared field silently and refuse a
  // wrong type; either way the operator would never see it.
  const json properties = agents_item_schema().at("properties");
  const json entry = status_entry("p", full_state(), kNow);
  for (const auto& [key, value] : entry.items()) {
    ASSERT_TRUE(properties.contains(key)) << key << " is not declared in the CRD";
    const std::string type = properties.at(key).at("type");
    if (type == "integer") {
      EXPECT_TRUE(value.is_number_integer()) << key << ": " << value;
    } else {
      EXPECT_EQ(type, "string") << key;
      EXPECT_TRUE(value.is_string()) << key << ": " << value;
    }
  }
  // And it sends every one of them when all are known.
  for (const auto& [key, schema] : properties.items()) {
    EXPECT_TRUE(entry.contains(key)) << "the entry never sends " << key;
  }
}

TEST(StatusEntry, ALongLastErrorIsCutToTheCrdsMaxLength) {
  EXPECT_EQ(agents_item_schema().at("properties").at("lastError").at("maxLength"), kLastErrorMaxLength);
  AgentState s;
  s.last_error = std::string(5000, 'x');
  const std::string cut = status_entry("p", s, kNow).at("lastError");
  EXPECT_EQ(code_points(cut), kLastErrorMaxLength);
  EXPECT_EQ(cut.substr(0, 4095), std::string(4095, 'x'));
  EXPECT_EQ(cut.substr(4095), "\xE2\x80\xA6");  // "…": a reader sees it was cut
}

TEST(StatusEntry, ALastErrorWithInvalidUtf8StillSerialises) {
  // libpq passes the server's messages through in the server's encoding.
  AgentState s;
  s.last_error = "FATAL: Passwort-Authentifizierung f\xFCr Benutzer fehlgeschlagen";
  const json entry = status_entry("p", s, kNow);
  std::string text;
  ASSERT_NO_THROW(text = entry.dump());
  EXPECT_EQ(entry.at("lastError"),
            "FATAL: Passwort-Authentifizierung f\xEF\xBF\xBDr Benutzer fehlgeschlagen");
}

// ---------------------------------------------------------------------------
// clamp_utf8
// ---------------------------------------------------------------------------

TEST(ClampUtf8, KeepsWellFormedTextWithinTheLimitUnchanged) {
  EXPECT_EQ(clamp_utf8("", 10), "");
  EXPECT_EQ(clamp_utf8("plain", 5), "plain");
  const std::string mixed = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // a é € 😀
  EXPECT_EQ(clamp_utf8(mixed, 4), mixed);
}

TEST(ClampUtf8, CountsCharactersNotBytes) {
  // 4096 two-byte characters are 8192 bytes, still within a maxLength of 4096.
  const std::string text = repeat("\xC3\xA9", 4096);
  EXPECT_EQ(clamp_utf8(text, 4096), text);
  const std::string cut = clamp_utf8(repeat("\xC3\xA9", 4097), 4096);
  EXPECT_EQ(cut, repeat("\xC3\xA9", 4095) + "\xE2\x80\xA6");
}

TEST(ClampUtf8, CutsBetweenCharactersNeverInsideOne) {
  // Four-byte characters: a byte-based cut would split one.
  const std::string emoji = "\xF0\x9F\x98\x80";
  EXPECT_EQ(clamp_utf8(repeat(emoji, 5), 3), emoji + emoji + "\xE2\x80\xA6");
  EXPECT_EQ(clamp_utf8("abcd", 1), "\xE2\x80\xA6");
  EXPECT_EQ(clamp_utf8("abcd", 0), "");
}

TEST(ClampUtf8, ReplacesEachByteOfAMalformedSequence) {
  EXPECT_EQ(clamp_utf8("a\x80z", 10), "a\xEF\xBF\xBDz");                   // stray continuation
  EXPECT_EQ(clamp_utf8("a\xC3", 10), "a\xEF\xBF\xBD");                     // cut off at the end
  EXPECT_EQ(clamp_utf8("\xE2\x82z", 10), "\xEF\xBF\xBD\xEF\xBF\xBDz");     // cut off before z
  EXPECT_EQ(clamp_utf8("\xC0\xAF", 10), "\xEF\xBF\xBD\xEF\xBF\xBD");       // overlong '/'
  EXPECT_EQ(clamp_utf8("\xED\xA0\x80", 10), repeat("\xEF\xBF\xBD", 3));    // a UTF-16 surrogate
  EXPECT_EQ(clamp_utf8("\xF4\x90\x80\x80", 10), repeat("\xEF\xBF\xBD", 4));  // above U+10FFFF
  EXPECT_EQ(clamp_utf8("\xFF", 10), "\xEF\xBF\xBD");
}

TEST(ClampUtf8, AReplacementCountsAsOneCharacterTowardsTheLimit) {
  EXPECT_EQ(clamp_utf8("\xFF\xFF\xFF", 2), "\xEF\xBF\xBD\xE2\x80\xA6");
}

// ---------------------------------------------------------------------------
// The apply body and the field manager
// ---------------------------------------------------------------------------

TEST(StatusApplyBody, HoldsOnlyTheIdentityAndThisPodsEntry) {
  const PipelineRef pipeline{"shop", "orders", "0b5c1f0e-1111-4222-8333-444455556666"};
  const json entry = {{"pod", "orders-agent-1"}, {"breaker", "Closed"}};
  EXPECT_EQ(status_apply_body(pipeline, entry),
            json({{"apiVersion", "outflow.dev/v1alpha1"},
                  {"kind", "EventPipeline"},
                  {"metadata", {{"name", "orders"}, {"namespace", "shop"}}},
                  {"status", {{"agents", json::array({entry})}}}}));
}

TEST(StatusFieldManager, NamesThePodSoEachPodOwnsOnlyItsEntry) {
  EXPECT_EQ(status_field_manager("orders-agent-7d9f-x2x"), "outflow-agent/orders-agent-7d9f-x2x");
  EXPECT_NE(status_field_manager("a"), status_field_manager("b"));
}

// ---------------------------------------------------------------------------
// The write schedule
// ---------------------------------------------------------------------------

namespace {

const Clock::time_point t0 = Clock::time_point{} + 1h;

AgentState closed() { return AgentState{}; }

AgentState with_breaker(State state, std::chrono::system_clock::time_point since) {
  AgentState s;
  s.breaker = state;
  s.breaker_since = since;
  return s;
}

WriteHistory written_at(const AgentState& state, Clock::time_point at) {
  WriteHistory h;
  h.succeeded(state, at);
  return h;
}

WriteDecision write_now(Clock::time_point now) { return {true, now}; }
WriteDecision wait_until(Clock::time_point at) { return {false, at}; }

}  // namespace

namespace outflow::agent {
// "write" or "wait until t0 + 5000 ms" instead of the struct's bytes.
void PrintTo(const WriteDecision& d, std::ostream* os) {
  if (d.write) {
    *os << "write";
  } else {
    *os << "wait until t0 + "
        << std::chrono::duration_cast<std::chrono::milliseconds>(d.next_check - t0).count() << " ms";
  }
}
}  // namespace outflow::agent

TEST(WriteSchedule, TheFirstEntryIsWrittenAtOnce) {
  EXPECT_EQ(decide_write(WriteHistory{}, closed(), t0, WritePolicy{}), write_now(t0));
}

TEST(WriteSchedule, WithoutChangesItNeverWritesAgain) {
  // Liveness is the pod's Ready condition: an unchanged entry is not rewritten, however
  // long it has been; the state is looked at again every interval.
  const WriteHistory h = written_at(closed(), t0);
  EXPECT_EQ(decide_write(h, closed(), t0 + 1s, WritePolicy{}), wait_until(t0 + 6s));
  EXPECT_EQ(decide_write(h, closed(), t0 + 5s, WritePolicy{}), wait_until(t0 + 10s));
  EXPECT_EQ(decide_write(h, closed(), t0 + 24h, WritePolicy{}), wait_until(t0 + 24h + 5s));
}

TEST(WriteSchedule, PublishingWithinATenfoldAndSmallBacklogMovesAreNotWritten) {
  AgentState before = closed();
  before.outbox_backlog = 3;
  before.published_total = 10'000;
  const WriteHistory h = written_at(before, t0);
  AgentState busier = before;
  busier.published_total = 50'000;
  busier.outbox_backlog = 9;
  EXPECT_EQ(decide_write(h, busier, t0 + 1min, WritePolicy{}), wait_until(t0 + 1min + 5s));
}

TEST(WriteSchedule, ANewErrorOrACoarseBacklogChangeIsWrittenAtMostOncePerInterval) {
  const WriteHistory h = written_at(closed(), t0);
  AgentState failing = closed();
  failing.last_error = "delivery timed out";
  EXPECT_EQ(decide_write(h, failing, t0 + 1s, WritePolicy{}), wait_until(t0 + 5s));
  EXPECT_EQ(decide_write(h, failing, t0 + 5s, WritePolicy{}), write_now(t0 + 5s));
  AgentState backed_up = closed();
  backed_up.outbox_backlog = 0;
  const WriteHistory measured = written_at(backed_up, t0);
  backed_up.outbox_backlog = 25'000;
  EXPECT_EQ(decide_write(measured, backed_up, t0 + 7s, WritePolicy{}), write_now(t0 + 7s));
}

TEST(WriteSchedule, ABreakerTransitionIsWrittenAtOnce) {
  const auto wall = std::chrono::system_clock::time_point{} + 1000h;
  const WriteHistory h = written_at(with_breaker(State::Closed, wall), t0);
  const auto open = with_breaker(State::Open, wall + 2s);
  EXPECT_EQ(decide_write(h, open, t0 + 2s, WritePolicy{}), write_now(t0 + 2s));
}

TEST(WriteSchedule, AnUnseenRoundTripOfTheBreakerCountsAsATransition) {
  // Open -> HalfOpen -> Open between two looks: same state, later `since`.
  const auto wall = std::chrono::system_clock::time_point{} + 1000h;
  const WriteHistory h = written_at(with_breaker(State::Open, wall), t0);
  EXPECT_EQ(decide_write(h, with_breaker(State::Open, wall + 31s), t0 + 2s, WritePolicy{}),
            write_now(t0 + 2s));
}

TEST(WriteSchedule, ATransitionRightAfterAWriteWaitsOnlyForTheMinimumGap) {
  const auto wall = std::chrono::system_clock::time_point{} + 1000h;
  const WriteHistory h = written_at(with_breaker(State::Closed, wall), t0);
  const auto open = with_breaker(State::Open, wall + 1s);
  const WritePolicy policy;
  EXPECT_EQ(decide_write(h, open, t0 + 50ms, policy), wait_until(t0 + policy.min_gap));
  EXPECT_EQ(decide_write(h, open, t0 + policy.min_gap, policy), write_now(t0 + policy.min_gap));
  // Well within the two seconds a transition may take to reach the API server.
  EXPECT_LT(policy.min_gap, 2s);
}

TEST(WriteSchedule, TheMinimumGapNeverExceedsAShortInterval) {
  const auto wall = std::chrono::system_clock::time_point{} + 1000h;
  const WriteHistory h = written_at(with_breaker(State::Closed, wall), t0);
  WritePolicy policy;
  policy.interval = 100ms;
  EXPECT_EQ(decide_write(h, with_breaker(State::Open, wall), t0 + 10ms, policy),
            wait_until(t0 + 100ms));
}

TEST(WriteSchedule, FailedWritesAreRetriedWithADoublingBackOffCappedAtTheInterval) {
  WriteHistory h;
  std::vector<std::int64_t> waits_ms;
  Clock::time_point now = t0 + 5s;
  for (int attempt = 0; attempt < 8; ++attempt) {
    ASSERT_TRUE(decide_write(h, closed(), now, WritePolicy{}).write) << "attempt " << attempt;
    h.failed(now);
    const auto next = decide_write(h, closed(), now, WritePolicy{});
    ASSERT_FALSE(next.write) << "retried at once after failure " << h.failures;
    waits_ms.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(next.next_check - now).count());
    now = next.next_check;
  }
  EXPECT_EQ(waits_ms, (std::vector<std::int64_t>{200, 400, 800, 1600, 3200, 5000, 5000, 5000}));
}

TEST(WriteSchedule, AFailedFirstWriteIsRetriedWithBackOffToo) {
  WriteHistory h;
  h.failed(t0);
  EXPECT_EQ(decide_write(h, closed(), t0, WritePolicy{}), wait_until(t0 + 200ms));
  EXPECT_EQ(decide_write(h, closed(), t0 + 200ms, WritePolicy{}), write_now(t0 + 200ms));
}

TEST(WriteSchedule, TheBackOffHoldsEvenForABreakerTransition) {
  // A breaker flapping while the API server is down must not turn into a
  // request loop; the retry carries the newest state anyway.
  const auto wall = std::chrono::system_clock::time_point{} + 1000h;
  WriteHistory h = written_at(with_breaker(State::Closed, wall), t0);
  h.failed(t0 + 5s);
  h.failed(t0 + 5200ms);
  EXPECT_EQ(decide_write(h, with_breaker(State::Open, wall + 6s), t0 + 5300ms, WritePolicy{}),
            wait_until(t0 + 5600ms));
}

TEST(WriteSchedule, ASuccessEndsTheBackOff) {
  WriteHistory h = written_at(closed(), t0);
  for (int i = 0; i < 6; ++i) h.failed(t0 + 10s);
  h.succeeded(closed(), t0 + 15s);
  EXPECT_EQ(h.failures, 0);
  EXPECT_EQ(decide_write(h, closed(), t0 + 16s, WritePolicy{}), wait_until(t0 + 21s));
}

TEST(WriteSchedule, RetryDelayIsZeroWithoutFailuresAndNeverOverflows) {
  const WritePolicy policy;
  EXPECT_EQ(retry_delay(0, policy), 0ms);
  EXPECT_EQ(retry_delay(1, policy), 200ms);
  EXPECT_EQ(retry_delay(1'000'000, policy), policy.interval);
  WritePolicy slow_first;
  slow_first.first_retry = 10s;
  EXPECT_EQ(retry_delay(1, slow_first), slow_first.interval);
}

// Replays the schedule the way the reporter's thread does: decide; write
// (succeeding or failing as told) or sleep until next_check, or until the
// next breaker transition when that comes first.
namespace {

struct Simulation {
  int writes = 0;
  std::vector<Clock::time_point> write_times;
};

Simulation simulate(Clock::duration length, bool api_up, Clock::duration flap_every,
                    const WritePolicy& policy) {
  Simulation sim;
  WriteHistory h;
  const auto wall = std::chrono::system_clock::time_point{} + 1000h;
  Clock::time_point now = t0;
  int guard = 0;
  while (now < t0 + length) {
    if (++guard > 1'000'000) {
      ADD_FAILURE() << "the schedule never lets time pass";
      break;
    }
    // The breaker flips every flap_every; each flip wakes the reporter.
    const auto flips = (now - t0) / flap_every;
    const auto state = with_breaker(flips % 2 == 0 ? State::Closed : State::Open,
                                    wall + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                               flips * flap_every));
    const auto decision = decide_write(h, state, now, policy);
    if (decision.write) {
      ++sim.writes;
      sim.write_times.push_back(now);
      if (api_up) {
        h.succeeded(state, now);
      } else {
        h.failed(now);
      }
      continue;
    }
    EXPECT_GT(decision.next_check, now) << "asked to wait for a moment already past";
    const auto next_flip = t0 + (flips + 1) * flap_every;
    now = std::min(decision.next_check, next_flip);
  }
  return sim;
}

}  // namespace

TEST(WriteSchedule, AnUnreachableApiServerGetsAboutOneAttemptPerInterval) {
  // Ten minutes down, the breaker flipping every 100 ms (the CRD's shortest
  // openDurationMs): 200 ms, 400 ms ... 3.2 s, then one try every 5 s.
  const auto sim = simulate(10min, false, 100ms, WritePolicy{});
  EXPECT_LE(sim.writes, 600 / 5 + 6);
  EXPECT_GE(sim.writes, 600 / 5);
}

TEST(WriteSchedule, AFlappingBreakerIsWrittenAtMostOncePerMinimumGap) {
  const WritePolicy policy;
  const auto sim = simulate(60s, true, 100ms, policy);
  EXPECT_LE(sim.writes, 60s / policy.min_gap + 1);
  for (std::size_t i = 1; i < sim.write_times.size(); ++i) {
    ASSERT_GE(sim.write_times[i] - sim.write_times[i - 1], policy.min_gap) << "write " << i;
  }
}

TEST(WriteSchedule, EveryTransitionOfASlowBreakerIsWrittenWhenItHappens) {
  // A realistic breaker (30 s open duration): each transition is written the
  // moment it happens, and nothing in between.
  const auto sim = simulate(120s, true, 30s, WritePolicy{});
  for (const auto flip : {30s, 60s, 90s}) {
    EXPECT_NE(std::find(sim.write_times.begin(), sim.write_times.end(), t0 + flip), sim.write_times.end())
        << "no write at the transition at " << flip.count() << " s";
  }
  // The first write and the three transitions: no heartbeats.
  EXPECT_EQ(sim.writes, 1 + 3);
}
