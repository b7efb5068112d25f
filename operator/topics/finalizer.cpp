#include "operator/topics/finalizer.h"

#include "common/time_format.h"

namespace outflow::op::topics {
namespace {

nlohmann::json finalizers_of(const nlohmann::json& object) {
  const auto& metadata = object.at("metadata");
  return metadata.contains("finalizers") ? metadata.at("finalizers") : nlohmann::json::array();
}

}  // namespace

bool has_finalizer(const nlohmann::json& object) {
  for (const auto& f : finalizers_of(object)) {
    if (f == kFinalizer) return true;
  }
  return false;
}

FinalizerChange finalizer_change(bool delete_policy, bool has) {
  if (delete_policy && !has) return FinalizerChange::Add;
  if (!delete_policy && has) return FinalizerChange::Remove;
  return FinalizerChange::None;
}

nlohmann::json add_finalizer_patch(const nlohmann::json& object) {
  const auto current = finalizers_of(object);
  if (!object.at("metadata").contains("finalizers")) {
    // There is no list to test; "add" would replace one that another
    // controller created meanwhile. The resourceVersion read guards instead.
    return nlohmann::json::array(
        {{{"op", "test"},
          {"path", "/metadata/resourceVersion"},
          {"value", object.at("metadata").value("resourceVersion", "")}},
         {{"op", "add"}, {"path", "/metadata/finalizers"}, {"value", {kFinalizer}}}});
  }
  return nlohmann::json::array({{{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", current}},
                                {{"op", "add"}, {"path", "/metadata/finalizers/-"}, {"value", kFinalizer}}});
}

nlohmann::json remove_finalizer_patch(const nlohmann::json& object) {
  const auto current = finalizers_of(object);
  auto remaining = nlohmann::json::array();
  for (const auto& f : current) {
    if (f != kFinalizer) remaining.push_back(f);
  }
  return nlohmann::json::array({{{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", current}},
                                {{"op", "replace"}, {"path", "/metadata/finalizers"}, {"value", remaining}}});
}

bool give_up_deletion(const std::string& deletion_requested, std::int64_t now_unix,
                      std::chrono::seconds give_up_after) {
  const auto requested = parse_rfc3339(deletion_requested);
  // An unreadable timestamp cannot tell how long we have tried; giving up at
  // once would skip deleting the topics, so keep trying (bounded by the caller's back-off).
  if (!requested) return false;
  return now_unix - *requested >= give_up_after.count();
}

}  // namespace outflow::op::topics
