// The informer against the real kube-apiserver: paged list, watch events in
// order, selectors and namespaces, the transform, watches the server ends,
// resuming from a version, and a prompt stop.

#include "informer_fixture.h"

namespace outflow::kube_tests {

TEST_F(InformerSync, InitialListPagesThroughMoreObjectsThanAPage) {
  Names expected;
  for (int i = 0; i < 7; ++i) {
    expected.push_back("cm-" + std::to_string(i));
    create_config_map(expected.back());
  }
  auto opts = options();
  opts.page_size = 3;  // three pages: 3 + 3 + 1
  kube::Informer informer(*rest_, kube::kinds::config_maps(), opts);
  Recorder recorder;
  informer.add_handler(recorder.handler(informer));
  EXPECT_FALSE(informer.has_synced());
  informer.start();

  ASSERT_TRUE(informer.wait_for_sync(kEventTimeout));
  EXPECT_TRUE(informer.has_synced());
  EXPECT_EQ(informer.list_count(), 1u);
  EXPECT_EQ(names_in(informer.list()), expected);
  EXPECT_EQ(names_in(informer.list(ns_)), expected);
  // Synced means the first list's events have all been handled.
  const auto seen = recorder.seen();
  ASSERT_EQ(seen.size(), 7u);
  for (const auto& s : seen) {
    EXPECT_EQ(s.type, InformerEventType::Added) << s.name;
    EXPECT_TRUE(s.cache_agreed) << s.name;
  }
  // List items come without apiVersion and kind; the informer adds them so
  // that an object looks the same whether it came by list or by watch.
  const auto cm = informer.get(ns_, "cm-3");
  ASSERT_TRUE(cm.has_value());
  EXPECT_EQ(cm->value("apiVersion", ""), "v1");
  EXPECT_EQ(cm->value("kind", ""), "ConfigMap");
  EXPECT_EQ((*cm)["data"]["k"], "v");
  EXPECT_FALSE(informer.get(ns_, "cm-99").has_value());
}

TEST_F(InformerWatch, CreateUpdateDeleteReachHandlersInOrderAfterTheCache) {
  kube::Informer informer(*rest_, kube::kinds::config_maps(), options());
  Recorder recorder;
  informer.add_handler(recorder.handler(informer));
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(kEventTimeout));
  EXPECT_TRUE(informer.list().empty());  // synced also when there is nothing

  const json created = create_config_map("watched");
  const json updated = api().merge_patch(kube::kinds::config_maps(), ns_, "watched",
                                         {{"data", {{"k", "v2"}}}});
  api().remove(kube::kinds::config_maps(), ns_, "watched");

  ASSERT_TRUE(recorder.wait_for(InformerEventType::Deleted, "watched"))
      << testing::PrintToString(recorder.summary());
  EXPECT_EQ(recorder.summary(), (Names{"Added watched", "Updated watched", "Deleted watched"}));
  const auto seen = recorder.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].resource_version, resource_version(created));
  EXPECT_EQ(seen[1].resource_version, resource_version(updated));
  for (const auto& s : seen) EXPECT_TRUE(s.cache_agreed) << type_name(s.type);
  EXPECT_FALSE(informer.get(ns_, "watched").has_value());
  EXPECT_EQ(informer.list_count(), 1u);
}

TEST_F(InformerSync, LabelSelectorFiltersListAndWatch) {
  const json other_labels = {{"outflow-test", label_ + "-other"}};
  create_config_map("matching");
  api().create(kube::kinds::config_maps(), ns_, config_map("other", {{"k", "v"}}, other_labels));

  kube::Informer informer(*rest_, kube::kinds::config_maps(), options());
  Recorder recorder;
  informer.add_handler(recorder.handler(informer));
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(kEventTimeout));
  EXPECT_EQ(names_in(informer.list()), (Names{"matching"}));

  // Starting to match is an Added, stopping to match a Deleted.
  api().merge_patch(kube::kinds::config_maps(), ns_, "other",
                    {{"metadata", {{"labels", labels()}}}});
  ASSERT_TRUE(recorder.wait_for(InformerEventType::Added, "other"));
  api().merge_patch(kube::kinds::config_maps(), ns_, "matching",
                    {{"metadata", {{"labels", other_labels}}}});
  ASSERT_TRUE(recorder.wait_for(InformerEventType::Deleted, "matching"));
  EXPECT_EQ(recorder.summary(), (Names{"Added matching", "Added other", "Deleted matching"}));
  EXPECT_EQ(names_in(informer.list()), (Names{"other"}));
}

TEST_F(InformerSync, NamespaceScopesListAndWatch) {
  testenv::ScopedNamespace other(*rest_, "outflow-inf");
  create_config_map(ns_, "here");
  create_config_map(other.name(), "there");

  kube::Informer scoped(*rest_, kube::kinds::config_maps(), options());
  auto everywhere_options = options();
  everywhere_options.namespace_name.clear();
  kube::Informer everywhere(*rest_, kube::kinds::config_maps(), everywhere_options);
  Recorder scoped_seen;
  Recorder everywhere_seen;
  scoped.add_handler(scoped_seen.handler(scoped));
  everywhere.add_handler(everywhere_seen.handler(everywhere));
  scoped.start();
  everywhere.start();
  ASSERT_TRUE(scoped.wait_for_sync(kEventTimeout));
  ASSERT_TRUE(everywhere.wait_for_sync(kEventTimeout));

  EXPECT_EQ(names_in(scoped.list()), (Names{"here"}));
  EXPECT_EQ(names_in(everywhere.list()), (Names{"here", "there"}));
  EXPECT_EQ(names_in(everywhere.list(other.name())), (Names{"there"}));
  EXPECT_TRUE(everywhere.get(other.name(), "there").has_value());
  EXPECT_FALSE(everywhere.get(ns_, "there").has_value());

  // A watch event in the other namespace reaches only the all-namespaces
  // informer; the later one in ours shows the scoped one was listening.
  create_config_map(other.name(), "there-too");
  create_config_map(ns_, "here-too");
  ASSERT_TRUE(everywhere_seen.wait_for(InformerEventType::Added, "here-too"));
  ASSERT_TRUE(scoped_seen.wait_for(InformerEventType::Added, "here-too"));
  EXPECT_EQ(scoped_seen.summary(), (Names{"Added here", "Added here-too"}));
  EXPECT_TRUE(everywhere_seen.wait_for(InformerEventType::Added, "there-too"));
  EXPECT_EQ(names_in(everywhere.list()), (Names{"here", "here-too", "there", "there-too"}));
}

TEST_F(InformerSync, TransformRunsBeforeTheCacheAndTheHandlers) {
  const auto secret = [&](const std::string& name, const std::string& value) {
    return json{{"apiVersion", "v1"},
                {"kind", "Secret"},
                {"metadata", {{"name", name}, {"labels", labels()}}},
                {"stringData", {{"password", value}}}};
  };
  api().create(kube::kinds::secrets(), ns_, secret("before", "s3cret"));

  auto opts = options();
  opts.transform = [](json object) {
    object.erase("data");
    object["metadata"].erase("managedFields");
    return object;
  };
  kube::Informer informer(*rest_, kube::kinds::secrets(), opts);
  Recorder recorder;
  informer.add_handler(recorder.handler(informer));
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(kEventTimeout));

  api().create(kube::kinds::secrets(), ns_, secret("after", "other"));
  api().merge_patch(kube::kinds::secrets(), ns_, "after", {{"stringData", {{"password", "x"}}}});
  ASSERT_TRUE(recorder.wait_for(InformerEventType::Updated, "after"));

  for (const auto& s : recorder.seen()) {
    EXPECT_FALSE(s.had_data) << type_name(s.type) << " " << s.name;
    EXPECT_TRUE(s.cache_agreed) << type_name(s.type) << " " << s.name;
  }
  for (const auto& name : {"before", "after"}) {
    const auto cached = informer.get(ns_, name);
    ASSERT_TRUE(cached.has_value()) << name;
    EXPECT_FALSE(cached->contains("data")) << name;
    EXPECT_FALSE(cached->at("metadata").contains("managedFields")) << name;
    EXPECT_EQ(cached->value("kind", ""), "Secret") << name;
  }
}

// Metadata only: the API server leaves a Secret's data out of list pages and
// watch events alike, so it never reaches the process, transform or not.
TEST_F(InformerSync, MetadataOnlyListsAndWatchesCarryNoContent) {
  const auto secret = [&](const std::string& name, const std::string& value) {
    return json{{"apiVersion", "v1"},
                {"kind", "Secret"},
                {"metadata", {{"name", name}, {"labels", labels()}}},
                {"stringData", {{"password", value}}}};
  };
  api().create(kube::kinds::secrets(), ns_, secret("listed-1", "s3cret"));
  api().create(kube::kinds::secrets(), ns_, secret("listed-2", "s3cret"));

  auto opts = options();
  opts.metadata_only = true;
  opts.page_size = 1;  // the continue token works for metadata lists too
  kube::Informer informer(*rest_, kube::kinds::secrets(), opts);
  Recorder recorder;
  informer.add_handler(recorder.handler(informer));
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(kEventTimeout));

  api().create(kube::kinds::secrets(), ns_, secret("watched", "other"));
  api().merge_patch(kube::kinds::secrets(), ns_, "watched", {{"stringData", {{"password", "x"}}}});
  ASSERT_TRUE(recorder.wait_for(InformerEventType::Updated, "watched"));

  for (const auto& s : recorder.seen()) {
    EXPECT_FALSE(s.had_data) << type_name(s.type) << " " << s.name;
    EXPECT_TRUE(s.cache_agreed) << type_name(s.type) << " " << s.name;
  }
  for (const auto& name : {"listed-1", "listed-2", "watched"}) {
    const auto cached = informer.get(ns_, name);
    ASSERT_TRUE(cached.has_value()) << name;
    EXPECT_FALSE(cached->contains("data")) << name;
    EXPECT_EQ(cached->value("kind", ""), "PartialObjectMetadata") << name;
    EXPECT_FALSE(cached->at("metadata").value("resourceVersion", "").empty()) << name;
    EXPECT_EQ(cached->at("metadata").value("labels", json::object()), labels()) << name;
  }
}

TEST_F(InformerWatch, WatchesTheServerEndsContinueWithoutRelistingOrMissingEvents) {
  auto opts = options();
  opts.watch_timeout = 2s;  // the server closes each watch after 2 s
  kube::Informer informer(*rest_, kube::kinds::config_maps(), opts);
  Recorder recorder;
  informer.add_handler(recorder.handler(informer));
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(kEventTimeout));

  // 4.5 s of steady writes span at least two server-ended watches, and
  // writes land right around each reconnect.
  Names expected;
  for (int i = 0; i < 9; ++i) {
    expected.push_back("Added tick-" + std::to_string(i));
    create_config_map("tick-" + std::to_string(i));
    std::this_thread::sleep_for(500ms);
  }
  ASSERT_TRUE(recorder.wait_for_count(9)) << testing::PrintToString(recorder.summary());
  EXPECT_EQ(recorder.summary(), expected);
  EXPECT_EQ(informer.list().size(), 9u);
  EXPECT_EQ(informer.list_count(), 1u) << "a watch the server ended must not cost a relist";
}

TEST_F(InformerWatch, AWatchCutByTheNetworkResumesFromTheLastVersion) {
  const auto [host, port] = host_and_port(testenv::require("OUTFLOW_TEST_KUBE_SERVER"));
  TcpRelay relay(host, port);
  auto endpoint = testenv::endpoint_with_token(testenv::require("OUTFLOW_TEST_KUBE_ADMIN_TOKEN"));
  endpoint.server = "https://" + host + ":" + std::to_string(relay.port());
  kube::RestClient relayed(endpoint);

  kube::Informer informer(relayed, kube::kinds::config_maps(), options());
  Recorder recorder;
  informer.add_handler(recorder.handler(informer));
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(kEventTimeout));
  create_config_map("before-cut");
  ASSERT_TRUE(recorder.wait_for(InformerEventType::Added, "before-cut"));
  const int connections = relay.accepted();

  // Writes while the watch is down (it waits out 100 ms of back-off) must
  // arrive once it reconnects, from the version it had reached.
  relay.cut();
  create_config_map("during-cut");
  api().merge_patch(kube::kinds::config_maps(), ns_, "before-cut", {{"data", {{"k", "v2"}}}});

  ASSERT_TRUE(recorder.wait_for(InformerEventType::Updated, "before-cut"))
      << testing::PrintToString(recorder.summary());
  EXPECT_EQ(recorder.summary(), (Names{"Added before-cut", "Added during-cut", "Updated before-cut"}));
  EXPECT_GT(relay.accepted(), connections) << "the informer never reconnected";
  EXPECT_EQ(informer.list_count(), 1u) << "a version still valid must not cost a relist";
}

TEST_F(InformerStop, StopMidWatchIsPromptIdempotentAndFinal) {
  auto opts = options();
  opts.watch_timeout = 300s;
  kube::Informer informer(*rest_, kube::kinds::config_maps(), opts);
  Recorder recorder;
  informer.add_handler(recorder.handler(informer));
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(kEventTimeout));
  create_config_map("before-stop");
  ASSERT_TRUE(recorder.wait_for(InformerEventType::Added, "before-stop"));  // the watch is open

  const auto started = Clock::now();
  informer.stop();
  const auto took = Clock::now() - started;
  EXPECT_LT(took, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms";
  informer.stop();  // idempotent

  create_config_map("after-stop");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(recorder.summary(), (Names{"Added before-stop"}));
  // The cache stays readable after stop, frozen where it was.
  EXPECT_TRUE(informer.get(ns_, "before-stop").has_value());
  EXPECT_FALSE(informer.get(ns_, "after-stop").has_value());
}

TEST_F(InformerStop, StopDuringBackOffIsPrompt) {
  // Nothing listens on port 1: every list fails at once with connection
  // refused, and the informer then sleeps its back-off. Plain HTTP, because
  // setting up a TLS connection (cpprestsdk loads the system CA bundle for
  // each) takes seconds under the sanitizers, and the list would still be
  // running when stop() comes.
  auto endpoint = testenv::endpoint_with_token(testenv::require("OUTFLOW_TEST_KUBE_ADMIN_TOKEN"));
  endpoint.server = "http://127.0.0.1:1";
  kube::RestClient unreachable(endpoint, 5s);
  auto opts = options();
  opts.initial_backoff = 10s;
  opts.max_backoff = 10s;
  kube::Informer informer(unreachable, kube::kinds::config_maps(), opts);
  informer.start();
  EXPECT_FALSE(informer.wait_for_sync(500ms));

  const auto started = Clock::now();
  informer.stop();
  EXPECT_LT(Clock::now() - started, 1s);
  EXPECT_FALSE(informer.has_synced());
  EXPECT_EQ(informer.list_count(), 0u);
}

TEST_F(InformerStop, StopWithoutStartAndMisuseAreHarmless) {
  kube::Informer never_started(*rest_, kube::kinds::config_maps(), options());
  never_started.stop();
  never_started.stop();

  kube::Informer informer(*rest_, kube::kinds::config_maps(), options());
  informer.start();
  EXPECT_THROW(informer.start(), std::logic_error);
  EXPECT_THROW(informer.add_handler([](InformerEventType, const json&) {}), std::logic_error);

  auto bad = options();
  bad.watch_timeout = 0s;
  EXPECT_THROW((void)kube::Informer(*rest_, kube::kinds::config_maps(), bad), std::invalid_argument);
  auto cluster_scoped = options();  // a namespace for namespaces
  EXPECT_THROW((void)kube::Informer(*rest_, kube::kinds::namespaces(), cluster_scoped),
               std::invalid_argument);
}

TEST_F(InformerStop, AHandlerMayStopItsInformer) {
  auto opts = options();
  std::unique_ptr<kube::Informer> informer =
      std::make_unique<kube::Informer>(*rest_, kube::kinds::config_maps(), opts);
  std::atomic<int> calls{0};
  kube::Informer* self = informer.get();
  informer->add_handler([&calls, self](InformerEventType, const json&) {
    ++calls;
    self->stop();  // must neither deadlock nor join itself
  });
  create_config_map("one");
  create_config_map("two");
  informer->start();
  ASSERT_TRUE(informer->wait_for_sync(kEventTimeout));
  create_config_map("three");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(calls.load(), 2);  // the first list's two; the watch never started
  const auto started = Clock::now();
  informer.reset();  // joins
  EXPECT_LT(Clock::now() - started, 1s);
}

TEST_F(InformerResume, AReflectorWithAFreshVersionWatchesWithoutListing) {
  kube::ObjectCache cache;
  const json listed = api().list(kube::kinds::config_maps(), ns_, {selector(), "", "", 0, ""});
  cache.replace({}, listed.at("metadata").at("resourceVersion").get<std::string>());
  create_config_map("later");

  Recorder recorder;
  kube::WatchReflector reflector(*rest_, kube::kinds::config_maps(), options(), cache,
                                 [&](const kube::CacheDelta& change) {
                                   recorder.record(Recorder::describe(change.type, change.object.unpacked()));
                                 });
  std::thread loop([&] { reflector.run(); });
  const bool seen = recorder.wait_for(InformerEventType::Added, "later");
  reflector.stop();
  loop.join();
  ASSERT_TRUE(seen);
  EXPECT_EQ(reflector.list_count(), 0u);
  EXPECT_TRUE(cache.get(ns_, "later").has_value());
}

TEST_F(InformerResume, BookmarksMoveTheVersionWithoutReportingAnything) {
  kube::ObjectCache cache;
  const json listed = api().list(kube::kinds::config_maps(), ns_, {selector(), "", "", 0, ""});
  const std::string start = listed.at("metadata").at("resourceVersion").get<std::string>();
  cache.replace({}, start);

  auto opts = options();
  opts.watch_timeout = 3s;
  Recorder recorder;
  kube::WatchReflector reflector(*rest_, kube::kinds::config_maps(), opts, cache,
                                 [&](const kube::CacheDelta& change) {
                                   recorder.record(Recorder::describe(change.type, change.object.unpacked()));
                                 });
  std::thread loop([&] { reflector.run(); });
  // Writes the selector filters out: the watch sends no event for them, but
  // the server's version moves past them, and a bookmark says so. (v1.35
  // sends it as the watch reaches its deadline, and only when the kind saw a
  // write while the watch was open, hence writes until the version moves.)
  int writes = 0;
  const bool moved = eventually(
      [&] {
        if (cache.resource_version() != start) return true;
        api().create(kube::kinds::config_maps(), ns_,
                     config_map("unlabelled-" + std::to_string(writes++), {{"k", "v"}}));
        std::this_thread::sleep_for(450ms);
        return false;
      },
      8s);
  reflector.stop();
  loop.join();
  EXPECT_TRUE(moved) << "no bookmark moved the version from " << start;
  EXPECT_TRUE(recorder.seen().empty());
  EXPECT_EQ(reflector.list_count(), 0u);
}

}  // namespace outflow::kube_tests
