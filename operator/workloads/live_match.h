#pragma once

// Whether a live object already carries everything an apply would set. The
// API server adds defaults, status and other managers' fields, so equality is
// the wrong test; "every field we would apply has that value" is the right one.
// Skipping the apply when it holds keeps a steady state free of requests, not
// just free of changes.

#include <nlohmann/json.hpp>

#include <string_view>

namespace outflow::op::workloads {

// Objects: every key of `applied` is in `live` and matches recursively.
// Arrays: same length, element by element. Scalars: equal. A false answer only
// costs an apply that the server turns into a no-op (e.g. "0.5" CPU read back
// as "500m"), so the test can afford to be strict.
bool contains(const nlohmann::json& live, const nlohmann::json& applied);

// `desired` (of resource `plural`) less what the API server will not let an
// apply change on `live`. Today that is a Service's cluster address: agent
// Services made by earlier operator versions have one, and spec.clusterIP cannot
// become "None" in place. Such a Service keeps its address (harmless) instead
// of failing every apply of the pipeline; a re-created one is headless.
nlohmann::json without_immutable_changes(std::string_view plural, nlohmann::json desired,
                                         const nlohmann::json& live);

}  // namespace outflow::op::workloads
