#pragma once

// Whether a live object already carries everything an apply would set. The
// API server adds defaults, status and other managers' fields, so equality is
// the wrong test; "every field we would apply has that value" is the right one.
// Skipping the apply when it holds keeps a steady state free of requests, not
// just free of changes.

#include <nlohmann/json.hpp>

namespace outflow::op::workloads {

// Objects: every key of `applied` is in `live` and matches recursively.
// Arrays: same length, element by element. Scalars: equal. A false answer only
// costs an apply that the server turns into a no-op (e.g. "0.5" CPU read back
// as "500m"), so the test can afford to be strict.
bool contains(const nlohmann::json& live, const nlohmann::json& applied);

}  // namespace outflow::op::workloads
