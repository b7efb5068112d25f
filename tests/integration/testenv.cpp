#include "testenv.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace outflow::testenv {

std::string require(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string(name) +
                             " is not set: integration tests need the real test environment. "
                             "Run hack/test.sh, or `hack/testenv.sh up` and then "
                             "`eval \"$(hack/testenv.sh env)\"` before ctest.");
  }
  return value;
}

std::string require_file(const char* name) {
  const auto path = require(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string(name) + "=" + path + " cannot be read");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string unique_name(std::string_view prefix) {
  static std::atomic<int> counter{0};
  std::mt19937 rng(static_cast<unsigned>(
      std::chrono::steady_clock::now().time_since_epoch().count() ^ getpid()));
  std::ostringstream out;
  out << prefix << '-' << std::hex << (rng() & 0xffffff) << '-' << std::dec << counter++;
  return out.str();
}

}  // namespace outflow::testenv
