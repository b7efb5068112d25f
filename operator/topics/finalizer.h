#pragma once

// The finalizer that lets topicDeletionPolicy: Delete delete a pipeline's
// topics before the pipeline disappears. It exists only under that policy:
// a Retain pipeline carries none, so nothing can hold it (or its namespace) in
// Terminating. Removal is bounded: once `give_up_after` has passed since the
// deletion was requested, the finalizer goes even if the broker never
// answered, with a Warning Event, because a namespace stuck in Terminating
// hurts more than topics left behind (which an admin can delete by hand).

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

namespace outflow::op::topics {

inline constexpr const char* kFinalizer = "outflow.dev/topic-deletion";

bool has_finalizer(const nlohmann::json& object);

enum class FinalizerChange { None, Add, Remove };

// For a pipeline that is not being deleted: add the finalizer under Delete,
// remove it under Retain (the policy was switched).
FinalizerChange finalizer_change(bool delete_policy, bool has);

// JSON patches (RFC 6902) on the object as read. Each is guarded by a test of
// the finalizers list it read, so a concurrent change by another controller
// fails the patch (Invalid/Conflict) and is retried, never clobbered.
nlohmann::json add_finalizer_patch(const nlohmann::json& object);
nlohmann::json remove_finalizer_patch(const nlohmann::json& object);

// Whether deletion has been tried long enough: `deletion_requested` is
// metadata.deletionTimestamp (RFC 3339, UTC), `now_unix` the wall clock.
bool give_up_deletion(const std::string& deletion_requested, std::int64_t now_unix,
                      std::chrono::seconds give_up_after);

}  // namespace outflow::op::topics
