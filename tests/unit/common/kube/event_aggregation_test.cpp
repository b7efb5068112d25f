// The EventRecorder's pure parts: which repeats aggregate, how long the
// recorder remembers them, and the Event objects it writes. The recorder
// itself runs against the real API server in
// tests/integration/common/kube/event_recorder_test.cpp.

#include "common/kube/event_aggregation.h"

#include <gtest/gtest.h>

namespace outflow::kube {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

json pipeline(const std::string& ns = "shop") {
  return {{"apiVersion", "outflow.dev/v1alpha1"},
          {"kind", "EventPipeline"},
          {"metadata",
           {{"name", "orders"},
            {"namespace", ns},
            {"uid", "6f1c1e3a-0000-4000-8000-000000000001"},
            {"resourceVersion", "1234"},
            {"generation", 3}}},
          {"spec", {{"anything", "ignored"}}}};
}

TEST(EventMessage, ShortValidTextIsKept) {
  EXPECT_EQ(event_message("Topic orders created"), "Topic orders created");
  EXPECT_EQ(event_message("Thema \xC3\xBC" "berpr\xC3\xBC" "ft"), "Thema \xC3\xBC" "berpr\xC3\xBC" "ft");
  EXPECT_EQ(event_message(""), "");
}

TEST(EventMessage, LongTextIsCutTo1024BytesWithAnEllipsis) {
  const std::string long_text(5000, 'x');
  const std::string cut = event_message(long_text);
  EXPECT_EQ(cut.size(), 1024u);
  EXPECT_EQ(cut, std::string(1021, 'x') + "...");
  EXPECT_EQ(event_message(std::string(1024, 'y')), std::string(1024, 'y'));
}

TEST(EventMessage, CutsBetweenCharactersNeverInsideOne) {
  // 1020 ASCII bytes, then a 4-byte character straddling the cut at 1021.
  const std::string text = std::string(1020, 'a') + "\xF0\x9F\x98\x80" + std::string(10, 'b');
  const std::string cut = event_message(text);
  EXPECT_EQ(cut, std::string(1020, 'a') + "...");
  // A 2-byte character ending exactly at the cut stays whole.
  const std::string two = std::string(1019, 'a') + "\xC3\xA9" + std::string(10, 'b');
  EXPECT_EQ(event_message(two), std::string(1019, 'a') + "\xC3\xA9" + "...");
}

TEST(EventMessage, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(event_message("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(event_message("\xC3"), "\xEF\xBF\xBD");                  // truncated sequence
  EXPECT_EQ(event_message("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(event_message("\xED\xA0\x80").substr(0, 3), "\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(event_message("\xF4\x90\x80\x80").substr(0, 3), "\xEF\xBF\xBD");  // > U+10FFFF
}

TEST(InvolvedObject, ReadsTheReferenceFieldsOnly) {
  const auto involved = InvolvedObject::from(pipeline());
  EXPECT_EQ(involved.to_json(), (json{{"apiVersion", "outflow.dev/v1alpha1"},
                                      {"kind", "EventPipeline"},
                                      {"name", "orders"},
                                      {"namespace", "shop"},
                                      {"uid", "6f1c1e3a-0000-4000-8000-000000000001"},
                                      {"resourceVersion", "1234"}}));
  EXPECT_EQ(involved.event_namespace(), "shop");
}

TEST(InvolvedObject, ClusterScopedObjectsGetTheirEventsInDefault) {
  const json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "shop"}}}};
  const auto involved = InvolvedObject::from(ns);
  EXPECT_EQ(involved.event_namespace(), "default");
  EXPECT_FALSE(involved.to_json().contains("namespace"));
}

TEST(InvolvedObject, AnObjectWithoutKindOrNameIsRejected) {
  EXPECT_THROW(InvolvedObject::from(json{{"kind", "ConfigMap"}}), std::invalid_argument);
  EXPECT_THROW(InvolvedObject::from(json{{"metadata", {{"name", "x"}}}}), std::invalid_argument);
  EXPECT_THROW(InvolvedObject::from(json("not an object")), std::invalid_argument);
}

TEST(EventKey, DiffersInUidTypeReasonAndMessage) {
  const auto a = InvolvedObject::from(pipeline());
  auto b = a;
  b.uid = "another-uid";
  const auto base = event_key(a, EventType::Normal, "Created", "m");
  EXPECT_EQ(base, event_key(a, EventType::Normal, "Created", "m"));
  EXPECT_NE(base, event_key(b, EventType::Normal, "Created", "m"));
  EXPECT_NE(base, event_key(a, EventType::Warning, "Created", "m"));
  EXPECT_NE(base, event_key(a, EventType::Normal, "Updated", "m"));
  EXPECT_NE(base, event_key(a, EventType::Normal, "Created", "m2"));
  // Separators inside the parts cannot make two different events collide.
  EXPECT_NE(event_key(a, EventType::Normal, "A|B", "C"), event_key(a, EventType::Normal, "A", "B|C"));
}

TEST(EventKey, ResourceVersionDoesNotMatter) {
  auto a = InvolvedObject::from(pipeline());
  auto b = a;
  b.resource_version = "9999";
  EXPECT_EQ(event_key(a, EventType::Normal, "R", "m"), event_key(b, EventType::Normal, "R", "m"));
}

TEST(EventName, IsTheObjectNameAndAHexSuffix) {
  EXPECT_EQ(event_name("orders", 0x17a2b3c4d5e6f708ull), "orders.17a2b3c4d5e6f708");
}

TEST(EventName, LongObjectNamesAreCutToStayAValidName) {
  const std::string name = event_name(std::string(240, 'a') + "-b", 0xffffffffffffffffull);
  EXPECT_EQ(name.size(), 253u);
  EXPECT_EQ(name, std::string(236, 'a') + ".ffffffffffffffff");
  const std::string cut_at_dash = event_name(std::string(235, 'a') + "-bbbbbb", 0xffffffffffffffffull);
  EXPECT_EQ(cut_at_dash, std::string(235, 'a') + ".ffffffffffffffff");
}

TEST(EventTime, IsRfc3339InWholeSeconds) {
  const auto time = std::chrono::system_clock::time_point(std::chrono::seconds(1136214245)) + 999ms;
  EXPECT_EQ(format_event_time(time), "2006-01-02T15:04:05Z");
}

TEST(MakeEvent, CarriesEveryFieldKubectlShows) {
  const auto involved = InvolvedObject::from(pipeline());
  const json event = make_event(involved, "orders.abc", EventType::Warning, "TopicConflict",
                                "topic claimed by another pipeline",
                                {"outflow-operator", "outflow-operator-7d9f-x2"},
                                "2006-01-02T15:04:05Z");
  EXPECT_EQ(event, (json{{"apiVersion", "v1"},
                         {"kind", "Event"},
                         {"metadata", {{"name", "orders.abc"}, {"namespace", "shop"}}},
                         {"involvedObject", involved.to_json()},
                         {"type", "Warning"},
                         {"reason", "TopicConflict"},
                         {"message", "topic claimed by another pipeline"},
                         {"source", {{"component", "outflow-operator"}}},
                         {"reportingComponent", "outflow-operator"},
                         {"reportingInstance", "outflow-operator-7d9f-x2"},
                         {"firstTimestamp", "2006-01-02T15:04:05Z"},
                         {"lastTimestamp", "2006-01-02T15:04:05Z"},
                         {"count", 1}}));
  EXPECT_EQ(event_repeat_patch(4, "2006-01-02T15:05:00Z"),
            (json{{"count", 4}, {"lastTimestamp", "2006-01-02T15:05:00Z"}}));
}

CachedEvent cached(const std::string& name, Clock::time_point seen, int count = 1) {
  return {"shop", name, count, seen};
}

TEST(EventCache, FindsARepeatWithinTheWindow) {
  ManualClock clock;
  EventCache cache(10, 10min);
  EXPECT_FALSE(cache.find("k", clock.now()));
  cache.put("k", cached("orders.1", clock.now()));
  clock.advance(10min - 1s);
  const auto found = cache.find("k", clock.now());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->name, "orders.1");
}

TEST(EventCache, ForgetsAnEventNotRepeatedForTheWindow) {
  ManualClock clock;
  EventCache cache(10, 10min);
  cache.put("k", cached("orders.1", clock.now()));
  clock.advance(10min);
  EXPECT_FALSE(cache.find("k", clock.now()));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(EventCache, TheWindowCountsFromTheLastOccurrence) {
  ManualClock clock;
  EventCache cache(10, 10min);
  cache.put("k", cached("orders.1", clock.now()));
  clock.advance(9min);
  cache.put("k", cached("orders.1", clock.now(), 2));  // repeated: the recorder stores last_seen
  clock.advance(9min);
  const auto found = cache.find("k", clock.now());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->count, 2);
}

TEST(EventCache, EvictsTheLeastRecentlyUsedBeyondCapacity) {
  ManualClock clock;
  EventCache cache(2, 10min);
  cache.put("a", cached("a.1", clock.now()));
  cache.put("b", cached("b.1", clock.now()));
  EXPECT_TRUE(cache.find("a", clock.now()));  // a is now more recent than b
  cache.put("c", cached("c.1", clock.now()));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_TRUE(cache.find("a", clock.now()));
  EXPECT_FALSE(cache.find("b", clock.now()));
  EXPECT_TRUE(cache.find("c", clock.now()));
}

TEST(EventCache, PutReplacesAndEraseForgets) {
  ManualClock clock;
  EventCache cache(2, 10min);
  cache.put("a", cached("a.1", clock.now()));
  cache.put("a", cached("a.2", clock.now(), 7));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.find("a", clock.now())->name, "a.2");
  cache.erase("a");
  cache.erase("never-there");
  EXPECT_EQ(cache.size(), 0u);
}

TEST(EventCache, DefaultCapacityIsBounded) {
  ManualClock clock;
  EventCache cache;
  for (int i = 0; i < 5000; ++i) cache.put(std::to_string(i), cached("e", clock.now()));
  EXPECT_EQ(cache.size(), kEventCacheCapacity);
  EXPECT_FALSE(cache.find("0", clock.now()));
  EXPECT_TRUE(cache.find("4999", clock.now()));
}

}  // namespace
}  // namespace outflow::kube
