// The watch decisions that need no server: the request path, reading the
// stream's lines, what each way a watch can end leads to (410 in either form
// relists, everything else transient backs off), and the back-off itself.
// The Status bodies are shaped like what kube-apiserver v1.35 sends.

#include "common/kube/watch_stream.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

using namespace outflow::kube;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json status(int code, const std::string& reason, const std::string& message,
            json details = json::object()) {
  return {{"kind", "Status"},   {"apiVersion", "v1"}, {"metadata", json::object()},
          {"status", "Failure"}, {"message", message}, {"reason", reason},
          {"details", details},  {"code", code}};
}

Response response_of(const json& body) {
  Response r;
  r.status = body.at("code").get<int>();
  r.body = body;
  r.text = body.dump();
  return r;
}

}  // namespace

TEST(WatchPath, AsksForBookmarksATimeoutAndTheVersionToStartFrom) {
  WatchOptions options;
  options.resource_version = "12345";
  options.timeout = 2s;
  EXPECT_EQ(watch_path(kinds::config_maps(), "team-a", options),
            "/api/v1/namespaces/team-a/configmaps"
            "?watch=true&resourceVersion=12345&allowWatchBookmarks=true&timeoutSeconds=2");
}

TEST(WatchPath, EscapesTheLabelSelectorAndWatchesAllNamespaces) {
  WatchOptions options;
  options.label_selector = "app in (a,b),tier=agent";
  options.resource_version = "7";
  options.allow_bookmarks = false;
  EXPECT_EQ(watch_path(kinds::event_pipelines(), "", options),
            "/apis/outflow.dev/v1alpha1/eventpipelines"
            "?watch=true&labelSelector=app%20in%20%28a%2Cb%29%2Ctier%3Dagent&resourceVersion=7"
            "&timeoutSeconds=300");
}

TEST(WatchPath, RefusesATimeoutTheServerWouldReadAsItsOwnDefault) {
  WatchOptions options;
  options.timeout = 0s;
  EXPECT_THROW(watch_path(kinds::config_maps(), "", options), std::invalid_argument);
  EXPECT_THROW(watch_path(kinds::namespaces(), "ns", WatchOptions{}), std::invalid_argument);
}

TEST(WatchEventParsing, ReadsEachEventType) {
  const auto added = parse_watch_event(
      R"({"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"x","resourceVersion":"5"}}})");
  ASSERT_TRUE(added.has_value());
  EXPECT_EQ(added->type, WatchEventType::Added);
  EXPECT_EQ(added->object["metadata"]["name"], "x");
  EXPECT_EQ(parse_watch_event(R"({"type":"MODIFIED","object":{}})")->type, WatchEventType::Modified);
  EXPECT_EQ(parse_watch_event(R"({"type":"DELETED","object":{}})")->type, WatchEventType::Deleted);
  const auto bookmark = parse_watch_event(
      R"({"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"77"}}})");
  EXPECT_EQ(bookmark->type, WatchEventType::Bookmark);
  EXPECT_EQ(bookmark->object["metadata"]["resourceVersion"], "77");
  EXPECT_EQ(parse_watch_event(R"({"type":"ERROR","object":{"kind":"Status","code":410}})")->type,
            WatchEventType::Error);
}

TEST(WatchEventParsing, SkipsBlankLines) {
  EXPECT_FALSE(parse_watch_event("").has_value());
  EXPECT_FALSE(parse_watch_event(" \r").has_value());
}

TEST(WatchEventParsing, RefusesWhatIsNoEventWithoutQuotingTheLine) {
  EXPECT_THROW(parse_watch_event(R"({"type":"ADDED","object":{"data":{"password":"hunter2"})"),
               std::invalid_argument);
  try {
    parse_watch_event(R"({"type":"ADDED","object":{"data":{"password":"hunter2"})");
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_watch_event(R"({"type":"RENAMED","object":{}})"), std::invalid_argument);
  EXPECT_THROW(parse_watch_event(R"({"type":"ADDED"})"), std::invalid_argument);
  EXPECT_THROW(parse_watch_event(R"({"object":{}})"), std::invalid_argument);
  EXPECT_THROW(parse_watch_event(R"([1,2])"), std::invalid_argument);
}

TEST(WatchEnd, GoneAsAnErrorEventRelists) {
  const auto end = watch_end_for_error_event(
      status(410, "Expired", "too old resource version: 5 (120)"));
  EXPECT_EQ(end.next, WatchNext::Relist);
  EXPECT_NE(end.reason.find("too old resource version"), std::string::npos) << end.reason;
}

TEST(WatchEnd, GoneAsAnHttpAnswerRelists) {
  EXPECT_EQ(watch_end_for_response(response_of(status(410, "Gone", "gone"))).next,
            WatchNext::Relist);
  // Not every 410 body is a Status; the HTTP code alone decides then.
  Response text_only;
  text_only.status = 410;
  text_only.text = "Gone";
  EXPECT_EQ(watch_end_for_response(text_only).next, WatchNext::Relist);
}

TEST(WatchEnd, AnErrorEventWithoutACodeGoesByItsReason) {
  json expired = status(410, "Expired", "too old");
  expired.erase("code");
  EXPECT_EQ(watch_end_for_error_event(expired).next, WatchNext::Relist);
  EXPECT_EQ(watch_end_for_error_event(json{{"kind", "Status"}}).next,
            WatchNext::RetryAfterBackoff);
}

TEST(WatchEnd, ServerTroubleAndThrottlingBackOffAndKeepTheServersHint) {
  const auto throttled = watch_end_for_response(response_of(
      status(429, "TooManyRequests", "storage is (re)initializing", {{"retryAfterSeconds", 1}})));
  EXPECT_EQ(throttled.next, WatchNext::RetryAfterBackoff);
  EXPECT_EQ(throttled.retry_after, std::optional<std::chrono::seconds>(1s));

  EXPECT_EQ(watch_end_for_response(response_of(status(500, "InternalError", "etcd down"))).next,
            WatchNext::RetryAfterBackoff);
  EXPECT_EQ(watch_end_for_response(
                response_of(status(504, "Timeout", "Too large resource version: 900, current: 800")))
                .next,
            WatchNext::RetryAfterBackoff);
  EXPECT_EQ(watch_end_for_error_event(status(500, "InternalError", "error on the server")).next,
            WatchNext::RetryAfterBackoff);
}

TEST(WatchEnd, RefusalsBackOffRatherThanHotLoop) {
  EXPECT_EQ(watch_end_for_response(response_of(status(403, "Forbidden", "no"))).next,
            WatchNext::RetryAfterBackoff);
  EXPECT_EQ(watch_end_for_response(response_of(status(404, "NotFound", "404 page not found"))).next,
            WatchNext::RetryAfterBackoff);
}

TEST(WatchEnd, ANormalCloseWatchesAgainAtOnce) {
  EXPECT_EQ(watch_end_for_close(0, 2s).next, WatchNext::Rewatch);
  EXPECT_EQ(watch_end_for_close(3, 10ms).next, WatchNext::Rewatch);
}

TEST(WatchEnd, AnInstantEmptyCloseBacksOff) {
  EXPECT_EQ(watch_end_for_close(0, 50ms).next, WatchNext::RetryAfterBackoff);
}

TEST(WatchBackoff, DoublesFromInitialUpToMaxAndResets) {
  WatchBackoff backoff(200ms, 1000ms);
  EXPECT_EQ(backoff.next(), 200ms);
  EXPECT_EQ(backoff.next(), 400ms);
  EXPECT_EQ(backoff.next(), 800ms);
  EXPECT_EQ(backoff.next(), 1000ms);
  EXPECT_EQ(backoff.next(), 1000ms);
  backoff.reset();
  EXPECT_EQ(backoff.next(), 200ms);
}

TEST(WatchBackoff, DoesNotOverflowInALongOutage) {
  WatchBackoff backoff(1ms, std::chrono::milliseconds::max());
  std::chrono::milliseconds last{0};
  for (int i = 0; i < 200; ++i) {
    const auto delay = backoff.next();
    EXPECT_GE(delay, last);
    last = delay;
  }
  EXPECT_EQ(last, std::chrono::milliseconds::max());
}

TEST(WatchBackoff, RefusesNonsense) {
  EXPECT_THROW(WatchBackoff(0ms, 1s), std::invalid_argument);
  EXPECT_THROW(WatchBackoff(2s, 1s), std::invalid_argument);
}
