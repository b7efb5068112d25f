// Under the informer, against the real kube-apiserver: a real 410 Gone and
// the relist that reports the gap, and the streaming GET a watch is read
// through.

#include "informer_fixture.h"

namespace outflow::kube_tests {

TEST_F(InformerGone, AVersionOlderThanTheServerKeepsRelistsAndReportsTheGap) {
  // What an informer holds after a long disconnection: the objects as they
  // were, at a version the server no longer keeps. The Widget CRD is new, so
  // its watch cache starts far after resourceVersion 1 and answers a watch
  // from there with an ERROR event: 410 "too old resource version".
  for (const auto& name : {"kept", "changed", "gone"}) {
    api().create(widgets_, ns_, widget(name, 1));
  }
  kube::ObjectCache cache;
  json before = api().list(widgets_, ns_);
  std::vector<kube::PackedObject> items;
  for (auto& item : before["items"]) items.emplace_back(item);
  cache.replace(std::move(items), "1");

  // The gap: what happened while nobody was watching.
  api().merge_patch(widgets_, ns_, "changed", {{"spec", {{"size", 2}}}});
  api().remove(widgets_, ns_, "gone");
  api().create(widgets_, ns_, widget("fresh", 1));

  Recorder recorder;
  std::mutex mutex;
  std::condition_variable listed_cv;
  bool listed = false;
  auto opts = kube::InformerOptions{};
  opts.namespace_name = ns_;
  opts.initial_backoff = 100ms;
  opts.max_backoff = 1s;
  kube::WatchReflector reflector(
      *rest_, widgets_, opts, cache,
      [&](const kube::CacheDelta& change) {
        recorder.record(Recorder::describe(change.type, change.object.unpacked()));
      },
      [&] {
        {
          const std::lock_guard lock(mutex);
          listed = true;
        }
        listed_cv.notify_all();
      });
  std::thread loop([&] { reflector.run(); });
  {
    std::unique_lock lock(mutex);
    listed_cv.wait_for(lock, kEventTimeout, [&] { return listed; });
  }
  reflector.stop();
  loop.join();

  ASSERT_EQ(reflector.list_count(), 1u) << "the 410 must have led to exactly one list";
  // Unchanged "kept" is not reported; the rest in key order, deletions last.
  EXPECT_EQ(recorder.summary(), (Names{"Updated changed", "Added fresh", "Deleted gone"}));
  EXPECT_EQ(names_in(cache.list()), (Names{"changed", "fresh", "kept"}));
  EXPECT_EQ(cache.get(ns_, "changed")->at("spec").at("size"), 2);
  EXPECT_NE(cache.resource_version(), "1");
}

TEST_F(InformerStream, StreamLinesPassesEachWatchLineAndEndsWithTheServer) {
  const json listed = api().list(kube::kinds::config_maps(), ns_, {selector(), "", "", 0, ""});
  create_config_map("streamed");
  kube::WatchOptions watch;
  watch.label_selector = selector();
  watch.resource_version = listed.at("metadata").at("resourceVersion").get<std::string>();
  watch.timeout = 1s;

  std::vector<std::string> lines;
  kube::StreamCancel cancel;
  const auto started = Clock::now();
  const auto result = rest_->stream_lines(
      kube::watch_path(kube::kinds::config_maps(), ns_, watch),
      [&](std::string_view line) {
        lines.emplace_back(line);
        return true;
      },
      cancel, 10s);
  const auto took = Clock::now() - started;

  EXPECT_EQ(result.response.status, 200);
  EXPECT_FALSE(result.cancelled);
  EXPECT_GE(took, 900ms);  // the server held it open for timeoutSeconds
  EXPECT_LT(took, 5s);
  ASSERT_FALSE(lines.empty());
  const auto first = kube::parse_watch_event(lines.front());
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->type, kube::WatchEventType::Added);
  EXPECT_EQ(first->object["metadata"]["name"], "streamed");
}

TEST_F(InformerStream, ARefusedStreamReturnsTheWholeStatusAndNoLines) {
  kube::RestClient user(unprivileged_endpoint());
  kube::WatchOptions watch;
  watch.resource_version = "1";
  int lines = 0;
  kube::StreamCancel cancel;
  const auto result = user.stream_lines(
      kube::watch_path(kube::kinds::config_maps(), ns_, watch),
      [&](std::string_view) {
        ++lines;
        return true;
      },
      cancel, 10s);
  EXPECT_EQ(result.response.status, 403);
  EXPECT_EQ(result.response.body.value("reason", ""), "Forbidden") << result.response.text;
  EXPECT_EQ(lines, 0);
}

TEST_F(InformerStream, CancelEndsAQuietStreamAtOnceAndStaysCancelled) {
  const json listed = api().list(kube::kinds::config_maps(), ns_, {selector(), "", "", 0, ""});
  create_config_map("first-line");
  kube::WatchOptions watch;
  watch.label_selector = selector();
  watch.resource_version = listed.at("metadata").at("resourceVersion").get<std::string>();
  watch.timeout = 60s;
  const std::string path = kube::watch_path(kube::kinds::config_maps(), ns_, watch);

  kube::StreamCancel cancel;
  kube::StreamResult result;
  std::atomic<int> lines{0};
  std::atomic<bool> returned{false};
  std::thread reader([&] {
    result = rest_->stream_lines(
        path,
        [&](std::string_view) {
          ++lines;
          return true;
        },
        cancel, 90s);
    returned = true;
  });
  // Connected once the first event is through; then nothing more comes.
  const bool connected = eventually([&] { return lines.load() > 0; }, 30s);
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(connected);
  EXPECT_FALSE(returned.load());
  const auto started = Clock::now();
  cancel.cancel();
  reader.join();
  EXPECT_LT(Clock::now() - started, 1s);
  EXPECT_TRUE(result.cancelled);
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(lines.load(), 1);
  EXPECT_TRUE(cancel.cancelled());

  // Once cancelled, always cancelled: no request is even sent.
  kube::StreamCancel copy = cancel;
  const auto again =
      rest_->stream_lines(path, [](std::string_view) { return true; }, copy, 90s);
  EXPECT_TRUE(again.cancelled);
  EXPECT_EQ(again.response.status, 0);
}

TEST_F(InformerStream, ALineHandlerMayEndTheStreamEarly) {
  create_config_map("a");
  create_config_map("b");
  kube::WatchOptions watch;
  watch.label_selector = selector();
  watch.resource_version = "";  // "now": synthetic ADDED events for what exists
  watch.timeout = 60s;
  int lines = 0;
  kube::StreamCancel cancel;
  const auto started = Clock::now();
  const auto result = rest_->stream_lines(
      kube::watch_path(kube::kinds::config_maps(), ns_, watch),
      [&](std::string_view) {
        ++lines;
        return false;
      },
      cancel, 90s);
  EXPECT_LT(Clock::now() - started, 5s);
  EXPECT_EQ(lines, 1);
  EXPECT_EQ(result.response.status, 200);
  EXPECT_FALSE(result.cancelled);
  EXPECT_FALSE(cancel.cancelled()) << "an early end must not cancel the caller's token";
}

}  // namespace outflow::kube_tests
