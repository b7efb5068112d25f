// What the informer's handlers hear when a list or a watch event reaches the
// cache. The relist cases are the gap after a 410 Gone: whatever happened
// while no watch was open must come out as Deleted/Added/Updated, and nothing
// that did not change may be reported.

#include "common/kube/object_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace outflow::kube;
using nlohmann::json;

namespace {

json cm(const std::string& ns, const std::string& name, const std::string& rv,
        const std::string& uid = "uid-1") {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"namespace", ns}, {"name", name}, {"resourceVersion", rv}, {"uid", uid}}}};
}

std::vector<PackedObject> packed(std::initializer_list<json> objects) {
  return {objects.begin(), objects.end()};
}

json bookmark(const std::string& rv) {
  return {{"kind", "ConfigMap"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", rv}}}};
}

// "Added a/x@5" per change: compact enough to compare whole sequences.
std::vector<std::string> summary(const std::vector<CacheDelta>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) {
    const char* type = c.type == InformerEventType::Added     ? "Added"
                       : c.type == InformerEventType::Updated ? "Updated"
                                                              : "Deleted";
    const auto object = c.object.unpacked();
    const auto& m = object.at("metadata");
    out.push_back(std::string(type) + " " + m.value("namespace", "") + "/" +
                  m.at("name").get<std::string>() + "@" + m.at("resourceVersion").get<std::string>());
  }
  return out;
}

using Lines = std::vector<std::string>;

}  // namespace

TEST(ObjectCache, FirstListReportsEveryObjectAsAddedAndTakesTheListVersion) {
  ObjectCache cache;
  EXPECT_EQ(cache.resource_version(), "");
  const auto changes = cache.replace(packed({cm("b", "y", "3"), cm("a", "x", "2")}), "10");
  EXPECT_EQ(summary(changes), (Lines{"Added a/x@2", "Added b/y@3"}));
  EXPECT_EQ(cache.resource_version(), "10");
  EXPECT_EQ(cache.size(), 2u);
  ASSERT_TRUE(cache.get("a", "x").has_value());
  EXPECT_EQ(*cache.get("a", "x"), cm("a", "x", "2"));
  EXPECT_FALSE(cache.get("a", "y").has_value());
}

TEST(ObjectCache, RelistReportsOnlyWhatChangedDuringTheGap) {
  ObjectCache cache;
  cache.replace(packed({cm("n", "kept", "2"), cm("n", "changed", "3"), cm("n", "gone", "4")}), "10");

  const auto changes =
      cache.replace(packed({cm("n", "kept", "2"), cm("n", "changed", "12"), cm("n", "new", "13")}), "20");

  EXPECT_EQ(summary(changes), (Lines{"Updated n/changed@12", "Added n/new@13", "Deleted n/gone@4"}));
  EXPECT_EQ(cache.resource_version(), "20");
  EXPECT_FALSE(cache.get("n", "gone").has_value());
  EXPECT_EQ(cache.get("n", "changed")->at("metadata").at("resourceVersion"), "12");
}

TEST(ObjectCache, RelistOfANameThatWasDeletedAndCreatedAgainIsDeleteThenAdd) {
  ObjectCache cache;
  cache.replace(packed({cm("n", "x", "2", "old-uid")}), "10");
  const auto changes = cache.replace(packed({cm("n", "x", "15", "new-uid")}), "20");
  EXPECT_EQ(summary(changes), (Lines{"Deleted n/x@2", "Added n/x@15"}));
  EXPECT_EQ(changes[0].object.unpacked().at("metadata").at("uid"), "old-uid");
}

TEST(ObjectCache, RelistWithNothingNewReportsNothing) {
  ObjectCache cache;
  cache.replace(packed({cm("n", "x", "2"), cm("n", "y", "3")}), "10");
  EXPECT_TRUE(cache.replace(packed({cm("n", "x", "2"), cm("n", "y", "3")}), "11").empty());
  EXPECT_EQ(cache.resource_version(), "11");
}

TEST(ObjectCache, ListWithADuplicateKeyIsRefusedAndChangesNothing) {
  ObjectCache cache;
  cache.replace(packed({cm("n", "x", "2")}), "10");
  EXPECT_THROW(cache.replace(packed({cm("n", "y", "3"), cm("n", "y", "4")}), "11"), std::invalid_argument);
  EXPECT_EQ(cache.resource_version(), "10");
  EXPECT_TRUE(cache.get("n", "x").has_value());
  EXPECT_FALSE(cache.get("n", "y").has_value());
}

TEST(ObjectCache, WatchEventsAddUpdateAndDeleteAndMoveTheVersion) {
  ObjectCache cache;
  cache.replace(packed({}), "10");
  EXPECT_EQ(summary(cache.apply(WatchEventType::Added, cm("n", "x", "11"))), (Lines{"Added n/x@11"}));
  EXPECT_EQ(cache.resource_version(), "11");
  EXPECT_EQ(summary(cache.apply(WatchEventType::Modified, cm("n", "x", "12"))),
            (Lines{"Updated n/x@12"}));
  EXPECT_EQ(summary(cache.apply(WatchEventType::Deleted, cm("n", "x", "13"))),
            (Lines{"Deleted n/x@13"}));
  EXPECT_EQ(cache.resource_version(), "13");
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ObjectCache, EventWithTheCachedVersionIsNotReported) {
  ObjectCache cache;
  cache.replace(packed({cm("n", "x", "5")}), "10");
  EXPECT_TRUE(cache.apply(WatchEventType::Modified, cm("n", "x", "5")).empty());
  EXPECT_TRUE(cache.apply(WatchEventType::Added, cm("n", "x", "5")).empty());
}

TEST(ObjectCache, AddedForACachedKeyIsAnUpdateAndModifiedForAnUnknownOneAnAdd) {
  ObjectCache cache;
  cache.replace(packed({cm("n", "x", "5")}), "10");
  EXPECT_EQ(summary(cache.apply(WatchEventType::Added, cm("n", "x", "11"))),
            (Lines{"Updated n/x@11"}));
  EXPECT_EQ(summary(cache.apply(WatchEventType::Modified, cm("n", "y", "12"))),
            (Lines{"Added n/y@12"}));
}

TEST(ObjectCache, AddedOverADifferentUidIsDeleteThenAdd) {
  ObjectCache cache;
  cache.replace(packed({cm("n", "x", "5", "old")}), "10");
  const auto changes = cache.apply(WatchEventType::Added, cm("n", "x", "11", "new"));
  EXPECT_EQ(summary(changes), (Lines{"Deleted n/x@5", "Added n/x@11"}));
  EXPECT_EQ(cache.get("n", "x")->at("metadata").at("uid"), "new");
}

TEST(ObjectCache, DeletedOfAnUnknownKeyOnlyMovesTheVersion) {
  // With a label selector the server sends DELETED when an object stops
  // matching, which need not have matched while we were looking.
  ObjectCache cache;
  cache.replace(packed({}), "10");
  EXPECT_TRUE(cache.apply(WatchEventType::Deleted, cm("n", "x", "14")).empty());
  EXPECT_EQ(cache.resource_version(), "14");
}

TEST(ObjectCache, BookmarkMovesOnlyTheVersion) {
  ObjectCache cache;
  cache.replace(packed({cm("n", "x", "5")}), "10");
  EXPECT_TRUE(cache.apply(WatchEventType::Bookmark, bookmark("99")).empty());
  EXPECT_EQ(cache.resource_version(), "99");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ObjectCache, ErrorEventsAndNamelessObjectsAreRefused) {
  ObjectCache cache;
  cache.replace(packed({}), "10");
  EXPECT_THROW(cache.apply(WatchEventType::Error, json{{"kind", "Status"}, {"code", 410}}),
               std::invalid_argument);
  EXPECT_THROW(cache.apply(WatchEventType::Added, json{{"metadata", {{"resourceVersion", "3"}}}}),
               std::invalid_argument);
  EXPECT_EQ(cache.resource_version(), "10");
}

TEST(ObjectCache, ListsOneNamespaceOrAllAndKeepsClusterScopedObjectsApart) {
  ObjectCache cache;
  json cluster_scoped = {{"metadata", {{"name", "team-a"}, {"resourceVersion", "1"}}}};
  cache.replace(packed({cm("team-a", "x", "2"), cm("team-b", "x", "3"), cm("team-a", "y", "4"),
                        cm("team-ab", "z", "5"), cluster_scoped}),
                "10");
  const auto team_a = cache.list("team-a");
  ASSERT_EQ(team_a.size(), 2u);
  EXPECT_EQ(team_a[0].at("metadata").at("name"), "x");
  EXPECT_EQ(team_a[1].at("metadata").at("name"), "y");
  EXPECT_EQ(cache.list().size(), 5u);
  EXPECT_EQ(cache.list("nobody").size(), 0u);
  ASSERT_TRUE(cache.get("", "team-a").has_value());
  EXPECT_EQ(cache.get("", "team-a")->at("metadata").at("resourceVersion"), "1");
}

TEST(ObjectCache, ReadersSeeWholeObjectsWhileAWriterApplies) {
  ObjectCache cache;
  cache.replace(packed({cm("n", "x", "0")}), "0");
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 1; i <= 2000; ++i) cache.apply(WatchEventType::Modified, cm("n", "x", std::to_string(i)));
    done = true;
  });
  bool whole = true;
  do {
    const auto object = cache.get("n", "x");
    whole = whole && object.has_value() && object->at("metadata").at("name") == "x";
  } while (!done);
  writer.join();
  EXPECT_TRUE(whole) << "a reader saw the object missing or torn during an update";
  EXPECT_EQ(cache.get("n", "x")->at("metadata").at("resourceVersion"), "2000");
}

// The cache keeps objects packed; what a reader gets back must be the object
// the API server sent, whatever its values: a Deployment's integers, a
// quantity string, a null, booleans, nested lists and non-ASCII text.
TEST(ObjectCache, GivesBackEveryValueOfAnObjectExactlyAsItWasSent) {
  const json deployment = json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"namespace": "orders", "name": "agent", "resourceVersion": "7", "uid": "u-1",
                 "generation": 9223372036854775807, "labels": {"team": "paiements-é"},
                 "creationTimestamp": null},
    "spec": {"replicas": 0, "paused": false, "minReadySeconds": -1, "weight": 0.25,
             "template": {"spec": {"containers": [{"name": "agent", "args": ["run", "--x=1"],
                                                   "resources": {"limits": {"memory": "64Mi"}}}]}},
             "strategy": {}, "tolerations": []},
    "status": {"conditions": [{"type": "Available", "status": "True"}], "ready": true}
  })");
  ObjectCache cache;
  cache.replace(packed({deployment}), "7");
  EXPECT_EQ(cache.get("orders", "agent"), deployment);
  EXPECT_EQ(cache.get("orders", "agent")->dump(), deployment.dump());

  auto changed = deployment;
  changed["metadata"]["resourceVersion"] = "8";
  changed["spec"]["replicas"] = 3;
  cache.apply(WatchEventType::Modified, changed);
  EXPECT_EQ(cache.list("orders"), std::vector<json>{changed});
  const auto gone = cache.apply(WatchEventType::Deleted, changed);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].object.unpacked(), changed);
}

TEST(ObjectCache, KeysNameEveryObjectInKeyOrder) {
  ObjectCache cache;
  json cluster_scoped = {{"metadata", {{"name", "team-a"}, {"resourceVersion", "1"}}}};
  cache.replace(packed({cm("b", "y", "3"), cm("a", "x", "2"), cluster_scoped}), "10");
  EXPECT_EQ(cache.keys(), (std::vector<std::string>{"team-a", "a/x", "b/y"}));
  cache.apply(WatchEventType::Deleted, cm("a", "x", "4"));
  EXPECT_EQ(cache.keys(), (std::vector<std::string>{"team-a", "b/y"}));
}
