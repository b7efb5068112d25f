#pragma once

// tests/bench/RESULTS.md holds one part per bench (the peers, the operator),
// each written by its own run: a run rewrites its part and keeps the others
// as they were, so one file answers "what did each bench last measure".

#include <string>

namespace outflow::bench {

// `document` with the part called `part` replaced by `text`, or `text`
// appended as that part when the document has none. A part starts at the
// line "<!-- part: NAME -->" and runs to the next such line; what stands
// before the first part is kept.
std::string with_part(const std::string& document, const std::string& part, const std::string& text);

// with_part on the file at `path` (created when missing). Throws
// std::runtime_error when it cannot be written.
void write_part(const std::string& path, const std::string& part, const std::string& text);

}  // namespace outflow::bench
