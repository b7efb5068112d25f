#include "operator/topics/finalizer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

using namespace outflow::op::topics;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

json pipeline_with(const json& finalizers) {
  return {{"apiVersion", "outflow.dev/v1alpha1"},
          {"kind", "EventPipeline"},
          {"metadata", {{"name", "orders"}, {"namespace", "shop"}, {"resourceVersion", "41"}, {"finalizers", finalizers}}},
          {"spec", {{"topicDeletionPolicy", "Delete"}}}};
}

json pipeline_without_finalizers() {
  auto object = pipeline_with(json::array());
  object["metadata"].erase("finalizers");
  return object;
}

// 2026-11-23T10:15:00Z.
constexpr std::int64_t kRequested = 1795428900;
constexpr const char* kRequestedText = "2026-11-23T10:15:00Z";

}  // namespace

TEST(TopicDeletionFinalizer, HasFinalizerLooksForOursOnly) {
  EXPECT_FALSE(has_finalizer(pipeline_without_finalizers()));
  EXPECT_FALSE(has_finalizer(pipeline_with(json::array())));
  EXPECT_FALSE(has_finalizer(pipeline_with(json::array({"example.com/other"}))));
  EXPECT_TRUE(has_finalizer(pipeline_with(json::array({kFinalizer}))));
  EXPECT_TRUE(has_finalizer(pipeline_with(json::array({"example.com/other", kFinalizer}))));
}

TEST(TopicDeletionFinalizer, OnlyADeletePolicyCarriesTheFinalizer) {
  EXPECT_EQ(finalizer_change(/*delete_policy=*/true, /*has=*/false), FinalizerChange::Add);
  EXPECT_EQ(finalizer_change(/*delete_policy=*/true, /*has=*/true), FinalizerChange::None);
  EXPECT_EQ(finalizer_change(/*delete_policy=*/false, /*has=*/true), FinalizerChange::Remove);
  EXPECT_EQ(finalizer_change(/*delete_policy=*/false, /*has=*/false), FinalizerChange::None);
}

TEST(TopicDeletionFinalizer, AddPatchCreatesTheListWhenThereIsNone) {
  const auto object = pipeline_without_finalizers();
  const auto patched = object.patch(add_finalizer_patch(object));
  EXPECT_EQ(patched["metadata"]["finalizers"], json::array({kFinalizer}));
  EXPECT_TRUE(has_finalizer(patched));
  EXPECT_EQ(patched["spec"], object["spec"]);
}

TEST(TopicDeletionFinalizer, FirstAddFailsIfTheObjectChangedMeanwhile) {
  const auto seen = pipeline_without_finalizers();
  // Another controller added its finalizer after we read the object.
  auto now = pipeline_with(json::array({"example.com/other"}));
  now["metadata"]["resourceVersion"] = "42";
  EXPECT_THROW((void)now.patch(add_finalizer_patch(seen)), json::other_error)
      << "a bare add would have replaced the other controller's finalizer";
}

TEST(TopicDeletionFinalizer, AddPatchAppendsToAnExistingList) {
  const auto object = pipeline_with(json::array({"example.com/other"}));
  const auto patched = object.patch(add_finalizer_patch(object));
  EXPECT_EQ(patched["metadata"]["finalizers"], json::array({"example.com/other", kFinalizer}));
}

TEST(TopicDeletionFinalizer, AddPatchToAnExistingListFailsIfTheListChangedMeanwhile) {
  const auto read = pipeline_with(json::array({"example.com/other"}));
  const auto patch = add_finalizer_patch(read);
  const auto now = pipeline_with(json::array({"example.com/other", "example.com/third"}));
  EXPECT_THROW(static_cast<void>(now.patch(patch)), json::exception);
  EXPECT_THROW(static_cast<void>(pipeline_with(json::array()).patch(patch)), json::exception);
}

TEST(TopicDeletionFinalizer, RemovePatchKeepsOtherControllersFinalizers) {
  const auto object = pipeline_with(json::array({"example.com/first", kFinalizer, "example.com/last"}));
  const auto patched = object.patch(remove_finalizer_patch(object));
  EXPECT_EQ(patched["metadata"]["finalizers"], json::array({"example.com/first", "example.com/last"}));
  EXPECT_FALSE(has_finalizer(patched));
}

TEST(TopicDeletionFinalizer, RemovePatchLeavesAnEmptyListWhenOursWasTheOnlyOne) {
  const auto object = pipeline_with(json::array({kFinalizer}));
  const auto patched = object.patch(remove_finalizer_patch(object));
  EXPECT_EQ(patched["metadata"]["finalizers"], json::array());
}

TEST(TopicDeletionFinalizer, RemovePatchFailsIfTheListChangedMeanwhile) {
  // Replacing a list that gained an entry since it was read would drop that entry.
  const auto read = pipeline_with(json::array({kFinalizer}));
  const auto patch = remove_finalizer_patch(read);
  const auto now = pipeline_with(json::array({kFinalizer, "example.com/late"}));
  EXPECT_THROW(static_cast<void>(now.patch(patch)), json::exception);
}

TEST(TopicDeletionFinalizer, GivesUpOnceTheTimeoutHasPassedSinceDeletionWasRequested) {
  EXPECT_FALSE(give_up_deletion(kRequestedText, kRequested, 5min));
  EXPECT_FALSE(give_up_deletion(kRequestedText, kRequested + 299, 5min));
  EXPECT_TRUE(give_up_deletion(kRequestedText, kRequested + 300, 5min));
  EXPECT_TRUE(give_up_deletion(kRequestedText, kRequested + 86400, 5min));
}

TEST(TopicDeletionFinalizer, AClockBehindTheDeletionTimestampKeepsTrying) {
  EXPECT_FALSE(give_up_deletion(kRequestedText, kRequested - 3600, 5min));
}

TEST(TopicDeletionFinalizer, AnUnreadableDeletionTimestampNeverGivesUp) {
  // Without knowing how long deletion has been tried, giving up would skip
  // deleting the topics.
  EXPECT_FALSE(give_up_deletion("", kRequested + 86400, 5min));
  EXPECT_FALSE(give_up_deletion("not a time", kRequested + 86400, 5min));
  EXPECT_FALSE(give_up_deletion("2026-11-23T10:15:00", kRequested + 86400, 5min));
}
