#pragma once

// Access to the real test environment that `hack/testenv.sh up` starts.
// A missing variable fails the test loudly; integration tests never skip.

#include <string>
#include <string_view>

namespace outflow::testenv {

// The value of a variable that `hack/testenv.sh env` exports. Throws (failing
// the calling test) with instructions when it is unset or empty.
std::string require(const char* name);

// Contents of the file named by a required variable.
std::string require_file(const char* name);

// A name unique to this process and call, safe for Kubernetes and Kafka.
std::string unique_name(std::string_view prefix);

}  // namespace outflow::testenv
